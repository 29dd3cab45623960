package kinds

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/labnet-dev/labnet/state"
)

// StateCodec converts resources between the flat attributes plan and
// apply diff and the typed specs the state file holds; state.Dir's Load
// and Save take it, so that state knows no kind.
var StateCodec state.Codec = codec{}

type codec struct{}

// Encode is the typed spec of a resource's attributes.
func (codec) Encode(kind, addr string, a map[string]string) (any, error) {
	k, err := Get(kind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	if err := checkShared(k.Info(), addr, a); err != nil {
		return nil, err
	}
	return k.Spec(addr, a)
}

// specOptions decode a spec strictly: a member the kind does not know is
// an unknown attribute, not one to skip.
var specOptions = jsonv2.RejectUnknownMembers(true)

// Decode reads a spec from the state file and checks its attributes as
// Check does: a value broken by hand stops the command, naming the
// resource and the attribute, before any host is touched.
func (codec) Decode(kind, addr string, spec []byte) (map[string]string, error) {
	k, err := Get(kind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	s := k.NewSpec()
	if err := jsonv2.Unmarshal(spec, s, specOptions); err != nil {
		return nil, fmt.Errorf("%s: %w", addr, specError(kind, err))
	}
	a := s.Attrs()
	if err := Check(kind, addr, a); err != nil {
		return nil, err
	}
	return a, nil
}

// specError names the attribute a spec's decoding failed on.
func specError(kind string, err error) error {
	var se *jsonv2.SemanticError
	if !errors.As(err, &se) || se.JSONPointer == "" {
		return err
	}
	tokens := strings.Split(string(se.JSONPointer)[1:], "/")
	attr := strings.NewReplacer("~1", "/", "~0", "~").Replace(tokens[0])
	var why string
	switch {
	case errors.Is(se.Err, jsonv2.ErrUnknownName) && len(tokens) == 1:
		why = "not an attribute of a " + kind
	case errors.Is(se.Err, jsonv2.ErrUnknownName):
		why = "unknown member"
	case se.Err != nil && se.JSONKind == '"':
		// A string the type refused (an address, a prefix): its parser says why.
		why = se.Err.Error()
	default:
		got := "JSON " + jsonKinds[se.JSONKind]
		if len(se.JSONValue) > 0 {
			got += " " + string(se.JSONValue)
		}
		why = got + " where " + typeName(se.GoType) + " belongs"
	}
	if len(tokens) > 1 { // inside the attribute's value: say where
		why = string(se.JSONPointer) + ": " + why
	}
	return fmt.Errorf("attribute %q: %s", attr, why)
}

var jsonKinds = map[jsontext.Kind]string{'n': "null", 'f': "boolean", 't': "boolean", '"': "string", '0': "number", '{': "object", '[': "array"}

// typeName is what a spec's Go type holds, in a user's words.
func typeName(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	switch t.String() {
	case "netip.Addr":
		return "an address"
	case "netip.Prefix":
		return "a prefix"
	}
	switch t.Kind() {
	case reflect.Int:
		return "a whole number"
	case reflect.Bool, reflect.Pointer:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Struct:
		return "an object"
	}
	return t.String()
}

// Check parses one resource's attributes: what its kind shares with every
// other (the resource it lives inside, its host), then its spec.
func Check(kind, addr string, a Attrs) error {
	k, err := Get(kind)
	if err != nil {
		return fmt.Errorf("%s: %w", addr, err)
	}
	if err := checkShared(k.Info(), addr, a); err != nil {
		return err
	}
	_, err = k.Spec(addr, a)
	return err
}

// checkShared: plan relies on these references whatever the kind.
func checkShared(in Info, addr string, a Attrs) error {
	p := parser{a: a}
	if len(in.Parents) > 0 && !in.Guest { // a guest's bridge is checked by its spec: it may have none
		p.str(in.Parents[0]) // the first is where it lives: always set
	}
	if in.Provider == "" {
		p.str("host")
	}
	// Not p.done: the kind's spec says which other attributes it has.
	if p.err != nil {
		return fmt.Errorf("%s: %w", addr, p.err)
	}
	return nil
}
