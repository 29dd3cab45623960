package remote

import (
	"os/exec"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"plain", "plain"},
		{"a-b_c.d/e:f=g@h,i+j%k", "a-b_c.d/e:f=g@h,i+j%k"},
		{"LABNET_OWNER=lab/host/", "LABNET_OWNER=lab/host/"},
		{"two words", "'two words'"},
		{"it's", `'it'\''s'`},
		{"'", `''\'''`},
		{"$(reboot)", "'$(reboot)'"},
		{"a;b", "'a;b'"},
		{"~", "'~'"},
		{"*", "'*'"},
		{"process.web[0]", "'process.web[0]'"},
		{"é", "'é'"},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// hostile strings: each must reach a command as exactly one argument.
var hostile = []string{
	"",
	"plain",
	"two  words",
	" leading and trailing ",
	"a;touch PWNED",
	"$(touch PWNED)",
	"${HOME}",
	"$HOME",
	"`touch PWNED`",
	`"double"`,
	"'single'",
	`it's`,
	`'\''`,
	`\`,
	`\n`,
	"new\nline",
	"\ttab",
	"a|b&c>d<e",
	"*",
	"[a-z]?",
	"~root",
	"#comment",
	"-n",
	"--",
	"!",
	"{a,b}",
	"é ünïcødé",
	"%s%d",
}

func runSh(t *testing.T, dir, script string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh -c %q: %v\n%s", script, err, out)
	}
	return string(out)
}

func TestQuoteIsOneShellWord(t *testing.T) {
	dir := t.TempDir()
	for _, s := range hostile {
		got := runSh(t, dir, `printf '%s\n' `+Quote(s))
		if got != s+"\n" {
			t.Errorf("printf of Quote(%q) printed %q", s, got)
		}
		// exactly one argument
		if n := runSh(t, dir, `set -- `+Quote(s)+`; echo $#`); n != "1\n" {
			t.Errorf("Quote(%q) is %s words", s, strings.TrimSpace(n))
		}
	}
	if out := runSh(t, dir, "ls -A"); out != "" {
		t.Errorf("quoting leaked: files made: %q", out)
	}
}

func TestJoin(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{nil, ""},
		{[]string{"ls"}, "ls"},
		{[]string{"python3", "-m", "http.server", "8000"}, "python3 -m http.server 8000"},
		{[]string{"sh", "-c", "echo $1", "x y"}, "sh -c 'echo $1' 'x y'"},
		{[]string{"a", ""}, "a ''"},
	}
	for _, tt := range tests {
		if got := Join(tt.argv...); got != tt.want {
			t.Errorf("Join(%q) = %s, want %s", tt.argv, got, tt.want)
		}
	}
	// As a command line, Join gives back argv exactly.
	dir := t.TempDir()
	got := runSh(t, dir, Join(append([]string{"printf", "<%s>\n"}, hostile...)...))
	want := ""
	for _, s := range hostile {
		want += "<" + s + ">\n"
	}
	if got != want {
		t.Errorf("Join round trip:\n got %q\nwant %q", got, want)
	}
	if out := runSh(t, dir, "ls -A"); out != "" {
		t.Errorf("quoting leaked: files made: %q", out)
	}
}
