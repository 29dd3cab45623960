package config

// The lab language's host blocks take the settings blocks of the providers
// a program links; the tests link them all, as labnet does.
import _ "github.com/labnet-dev/labnet/provider/all"
