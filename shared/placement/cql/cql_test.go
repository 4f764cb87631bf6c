package cql

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-run/berth/shared/ecs"
)

// box is a test instance.
type box struct {
	connected bool
	version   string
	attrs     map[string]string
	ec2       string
	at        time.Time
	running   int
	groups    map[string]int
}

func (b *box) AgentConnected() bool { return b.connected }
func (b *box) AgentVersion() string { return b.version }
func (b *box) Attribute(n string) (string, bool) {
	v, ok := b.attrs[n]
	return v, ok
}
func (b *box) EC2InstanceID() string       { return b.ec2 }
func (b *box) RegisteredAt() time.Time     { return b.at }
func (b *box) RunningTasksCount() int      { return b.running }
func (b *box) TaskGroupCount(g string) int { return b.groups[g] }
func (b *box) TaskGroups(yield func(string) bool) {
	for g, n := range b.groups {
		if n > 0 && !yield(g) {
			return
		}
	}
}

// t2 is a t2.small in us-east-1a running one task of service:production.
var t2 = &box{
	connected: true,
	version:   "1.14.4",
	attrs: map[string]string{
		"ecs.instance-type":     "t2.small",
		"ecs.availability-zone": "us-east-1a",
		"stack":                 "prod",
		"cores":                 "8",
		"flag":                  "",
	},
	ec2:     "i-abcd1234",
	at:      time.Date(2018, 2, 12, 23, 59, 59, 0, time.UTC),
	running: 1,
	groups:  map[string]int{"service:production": 1},
}

// g2 is a disconnected g2.2xlarge in us-east-1d with no tasks.
var g2 = &box{
	connected: false,
	version:   "1.20.0",
	attrs: map[string]string{
		"ecs.instance-type":     "g2.2xlarge",
		"ecs.availability-zone": "us-east-1d",
		"cores":                 "16",
	},
	ec2:    "i-wxyx7890",
	at:     time.Date(2018, 6, 18, 22, 28, 28, 0, time.UTC),
	groups: map[string]int{"database": 0},
}

// bare has nothing known about it.
var bare = &box{attrs: map[string]string{}}

func mustCompile(t *testing.T, expr string) *Expr {
	t.Helper()
	e, err := Compile(expr)
	if err != nil {
		t.Fatalf("Compile(%q): %v", expr, err)
	}
	return e
}

func TestEvaluate(t *testing.T) {
	cases := []struct {
		expr          string
		t2, g2, other bool
	}{
		// The examples of the ECS developer guide and reference §4.5.
		{"attribute:ecs.instance-type == t2.small", true, false, false},
		{"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", true, false, false},
		{"attribute:ecs.instance-type =~ g2.*", false, true, false},
		{"attribute:ecs.instance-type =~ t2.*", true, false, false},
		{"attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d", false, false, false},
		{"attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d", true, false, false},
		{"attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone == us-east-1a", true, false, false},
		{"attribute:ecs.instance-type == g2.2xlarge", false, true, false},
		{"attribute:stack == prod", true, false, false},
		{"attribute:stack != prod", false, false, false},
		{"attribute:ecs.instance-type in [t2.small, t2.medium]", true, false, false},
		{"task:group == service:production", true, false, false},
		{"task:group == databases", false, false, false},
		{"not(task:group == database)", true, true, true},
		{"runningTasksCount == 1", true, false, false},
		{"agentVersion < 1.14.5", true, false, false},
		{"registeredAt < 2018-02-13", true, false, false},
		{"registeredAt < 2018-06-18", true, false, false},
		{"ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", true, true, false},
		{"(attribute:ecs.instance-type == t2.small or attribute:ecs.instance-type == g2.2xlarge) and runningTasksCount == 0", false, true, false},

		// Every operator and its alias on attributes.
		{"attribute:stack equals prod", true, false, false},
		{"attribute:stack not_equals dev", true, false, false},
		{"attribute:cores > 9", false, true, false},
		{"attribute:cores greater_than 9", false, true, false},
		{"attribute:cores >= 8", true, true, false},
		{"attribute:cores greater_than_equal 16", false, true, false},
		{"attribute:cores < 16", true, false, false},
		{"attribute:cores less_than 8", false, false, false},
		{"attribute:cores <= 16", true, true, false},
		{"attribute:cores less_than_equal 8", true, false, false},
		{"attribute:ecs.instance-type > m", true, false, false}, // string order
		{"attribute:stack exists", true, false, false},
		{"attribute:flag exists", true, false, false},
		{"attribute:stack !exists", false, true, true},
		{"attribute:stack not_exists", false, true, true},
		{"attribute:stack in [dev, prod]", true, false, false},
		{"attribute:stack !in [dev, test]", true, false, false},
		{"attribute:stack not_in [prod]", false, false, false},
		{"attribute:stack =~ pr.d", true, false, false},
		{"attribute:stack matches 'p.*'", true, false, false},
		{"attribute:stack !~ d.*", true, false, false},
		{"attribute:stack not_matches p.*", false, false, false},
		{"attribute:stack =~ ro", false, false, false}, // whole-value match
		{"attribute:flag == ''", true, false, false},

		// agentConnected.
		{"agentConnected == true", true, false, false},
		{"agentConnected equals TRUE", true, false, false},
		{"agentConnected != true", false, true, true},
		{"agentConnected not_equals false", true, false, false},
		{"agentConnected in [false]", false, true, true},
		{"agentConnected !in [false]", true, false, false},
		{"agentConnected not_in [true, false]", false, false, false},
		{"agentConnected =~ t.*", true, false, false},
		{"agentConnected matches f.*", false, true, true},
		{"agentConnected !~ t.*", false, true, true},
		{"agentConnected not_matches t.*", false, true, true},

		// agentVersion compares as versions, not strings.
		{"agentVersion == 1.14.4", true, false, false},
		{"agentVersion equals 1.20", false, true, false},
		{"agentVersion != 1.14.4", false, true, false},
		{"agentVersion not_equals 1.20.0", true, false, false},
		{"agentVersion > 1.9.0", true, true, false},
		{"agentVersion greater_than 1.14.4", false, true, false},
		{"agentVersion >= 1.14.4", true, true, false},
		{"agentVersion greater_than_equal 1.14.5", false, true, false},
		{"agentVersion less_than 1.20.0", true, false, false},
		{"agentVersion <= 1.20.0", true, true, false},
		{"agentVersion less_than_equal 1.14.3", false, false, false},
		{"agentVersion > 1.20.0-beta.1", false, true, false},

		// ec2InstanceId.
		{"ec2InstanceId == i-abcd1234", true, false, false},
		{"ec2InstanceId equals i-wxyx7890", false, true, false},
		{"ec2InstanceId != i-abcd1234", false, true, false},
		{"ec2InstanceId not_equals i-0", true, true, false},
		{"ec2InstanceId in [i-abcd1234]", true, false, false},
		{"ec2InstanceId !in [i-abcd1234]", false, true, false},
		{"ec2InstanceId not_in [\"i-abcd1234\", 'i-wxyx7890']", false, false, false},
		{"ec2InstanceId =~ i-a.*", true, false, false},
		{"ec2InstanceId matches i-[a-z]{4}[0-9]{4}", true, true, false},
		{"ec2InstanceId !~ i-a.*", false, true, false},
		{"ec2InstanceId not_matches i-a.*", false, true, false},

		// registeredAt in each format; a date or second names its whole span.
		{"registeredAt == 2018-06-18", false, true, false},
		{"registeredAt equals 2018-06-18T22:28:28Z", false, true, false},
		{"registeredAt == 2018-06-18T22:28:28+00:00", false, true, false},
		{"registeredAt == 2018-06-18T22:28:28", false, true, false},
		{"registeredAt == 2018-06-19T00:28:28+02:00", false, true, false},
		{"registeredAt != 2018-06-18", true, false, false},
		{"registeredAt not_equals 2018-02-12", false, true, false},
		{"registeredAt > 2018-02-12", false, true, false},
		{"registeredAt greater_than 2018-02-11", true, true, false},
		{"registeredAt >= 2018-02-12", true, true, false},
		{"registeredAt greater_than_equal 2018-06-18T22:28:29Z", false, false, false},
		{"registeredAt less_than 2018-06-18T22:28:28Z", true, false, false},
		{"registeredAt <= 2018-06-18T22:28:28Z", true, true, false},
		{"registeredAt less_than_equal 2018-02-12", true, false, false},

		// runningTasksCount.
		{"runningTasksCount equals 0", false, true, true},
		{"runningTasksCount != 0", true, false, false},
		{"runningTasksCount not_equals 1", false, true, true},
		{"runningTasksCount > 0", true, false, false},
		{"runningTasksCount greater_than 1", false, false, false},
		{"runningTasksCount >= 1", true, false, false},
		{"runningTasksCount greater_than_equal 0", true, true, true},
		{"runningTasksCount < 1", false, true, true},
		{"runningTasksCount less_than 2", true, true, true},
		{"runningTasksCount <= 0", false, true, true},
		{"runningTasksCount less_than_equal 1", true, true, true},

		// task:group is set-valued; a group with zero tasks does not count.
		{"task:group equals service:production", true, false, false},
		{"task:group != service:production", false, true, true},
		{"task:group not_equals database", true, true, true},
		{"task:group in [database, service:production]", true, false, false},
		{"task:group !in [database, service:production]", false, true, true},
		{"task:group not_in [database]", true, true, true},
		{"task:group =~ service:.*", true, false, false},
		{"task:group matches data.*", false, false, false},
		{"task:group !~ service:.*", false, true, true},
		{"task:group not_matches x", true, true, true},
		{"task:group exists", true, false, false},
		{"task:group !exists", false, true, true},
		{"task:group not_exists", false, true, true},

		// Connectives, their aliases and precedence (not > and > or).
		{"attribute:stack exists && runningTasksCount == 1", true, false, false},
		{"attribute:stack exists AND runningTasksCount == 0", false, false, false},
		{"attribute:stack exists || agentVersion == 1.20.0", true, true, false},
		{"attribute:stack exists Or agentVersion == 1.20.0", true, true, false},
		{"!attribute:stack exists", false, true, true},
		{"! attribute:stack exists", false, true, true},
		{"NOT attribute:stack exists", false, true, true},
		{"!!attribute:stack exists", true, false, false},
		{"not not attribute:stack exists", true, false, false},
		{"agentConnected == true or agentConnected == false and runningTasksCount == 5", true, false, false},
		{"(agentConnected == true or agentConnected == false) and runningTasksCount == 0", false, true, true},
		{"not attribute:stack exists and runningTasksCount == 0", false, true, true},
		{"not (attribute:stack exists and runningTasksCount == 1)", false, true, true},
		{"((attribute:stack == prod))", true, false, false},
		{"attribute:ecs.instance-type=~t2.*&&attribute:stack==prod", true, false, false},
		{"(attribute:ecs.instance-type =~ (t2|g2).*)", true, true, false},
	}
	for _, c := range cases {
		e := mustCompile(t, c.expr)
		for _, s := range []struct {
			name string
			box  *box
			want bool
		}{{"t2", t2, c.t2}, {"g2", g2, c.g2}, {"bare", bare, c.other}} {
			if got := e.Eval(s.box); got != s.want {
				t.Errorf("%q on %s = %v, want %v", c.expr, s.name, got, s.want)
			}
		}
	}
}

func TestAliasesCompileToTheSameExpression(t *testing.T) {
	pairs := [][2]string{
		{"attribute:a == x", "attribute:a equals x"},
		{"attribute:a != x", "attribute:a NOT_EQUALS x"},
		{"attribute:a > x", "attribute:a greater_than x"},
		{"attribute:a >= x", "attribute:a greater_than_equal x"},
		{"attribute:a < x", "attribute:a less_than x"},
		{"attribute:a <= x", "attribute:a less_than_equal x"},
		{"attribute:a exists", "attribute:a EXISTS"},
		{"attribute:a !exists", "attribute:a not_exists"},
		{"attribute:a in [x]", "attribute:a IN ['x']"},
		{"attribute:a !in [x, y]", "attribute:a not_in [\"x\",y]"},
		{"attribute:a =~ x", "attribute:a matches x"},
		{"attribute:a !~ x", "attribute:a not_matches x"},
		{"attribute:a exists and attribute:b exists", "attribute:a exists && attribute:b exists"},
		{"attribute:a exists or attribute:b exists", "attribute:a exists || attribute:b exists"},
		{"not attribute:a exists", "!attribute:a exists"},
		{"attribute:a exists and attribute:b exists and attribute:c exists", "(attribute:a exists and attribute:b exists) and attribute:c exists"},
		{"attribute:a exists and attribute:b exists and attribute:c exists", "attribute:a exists and (attribute:b exists and attribute:c exists)"},
	}
	for _, p := range pairs {
		a, b := mustCompile(t, p[0]), mustCompile(t, p[1])
		if !a.Equal(b) {
			t.Errorf("%q and %q differ: %s vs %s", p[0], p[1], a, b)
		}
	}
	if mustCompile(t, "attribute:a == x").Equal(mustCompile(t, "attribute:a == y")) {
		t.Error("different arguments compare equal")
	}
}

func TestCanonicalString(t *testing.T) {
	cases := map[string]string{
		"attribute:ecs.instance-type equals t2.small":  "attribute:ecs.instance-type == t2.small",
		"not(task:group == database)":                  "not task:group == database",
		"ec2InstanceId in ['i-abcd1234','i-wxyx7890']": "ec2InstanceId in [i-abcd1234, i-wxyx7890]",
		"(a:x exists)": "",
		"attribute:a exists AND (attribute:b exists OR attribute:c exists)": "attribute:a exists and (attribute:b exists or attribute:c exists)",
		"!(attribute:a exists && attribute:b exists)":                       "not (attribute:a exists and attribute:b exists)",
		"attribute:a == 'two words'":                                        "attribute:a == 'two words'",
		`attribute:a == "it's"`:                                             `attribute:a == "it's"`,
		"attribute:a =~ '(t2|m5) .*'":                                       "attribute:a =~ '(t2|m5) .*'",
		"attribute:a =~ '(t2|m5).*'":                                        "attribute:a =~ (t2|m5).*",
		"attribute:a == '(x)'":                                              "attribute:a == '(x)'",
		"attribute:a not_in [x]":                                            "attribute:a !in [x]",
		"attribute:a not_exists":                                            "attribute:a !exists",
		"attribute:a == ''":                                                 "attribute:a == ''",
	}
	for in, want := range cases {
		if want == "" {
			continue
		}
		e := mustCompile(t, in)
		if got := e.String(); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
		back := mustCompile(t, e.String())
		if !back.Equal(e) {
			t.Errorf("%q does not read back equal", e.String())
		}
	}
}

func TestUsesTaskGroup(t *testing.T) {
	for expr, want := range map[string]bool{
		"task:group == x": true,
		"attribute:a exists and not(task:group in [x, y])": true,
		"attribute:a exists":                              false,
		"runningTasksCount > 2 or agentConnected == true": false,
	} {
		if got := mustCompile(t, expr).UsesTaskGroup(); got != want {
			t.Errorf("UsesTaskGroup(%q) = %v", expr, got)
		}
	}
}

func TestOperatorsEachSubjectAccepts(t *testing.T) {
	args := map[op]string{
		opEq: "1", opNe: "1", opGt: "1", opGe: "1", opLt: "1", opLe: "1",
		opExists: "", opNotExists: "", opIn: "[1]", opNotIn: "[1]", opMatches: "1", opNotMatches: "1",
	}
	valid := map[string]string{
		"agentConnected":    "== != in !in =~ !~",
		"agentVersion":      "== != > >= < <=",
		"attribute:x":       "== != > >= < <= exists !exists in !in =~ !~",
		"ec2InstanceId":     "== != in !in =~ !~",
		"registeredAt":      "== != > >= < <=",
		"runningTasksCount": "== != > >= < <=",
		"task:group":        "== != in !in =~ !~ exists !exists",
	}
	for subject, ops := range valid {
		allowed := map[string]bool{}
		for _, o := range strings.Fields(ops) {
			allowed[o] = true
		}
		for o, sym := range opSymbols {
			arg := args[o]
			switch {
			case subject == "agentConnected" && !o.takesRegex():
				arg = strings.ReplaceAll(arg, "1", "true")
			case subject == "registeredAt":
				arg = "2018-06-18"
			}
			expr := strings.TrimSpace(subject + " " + sym + " " + arg)
			_, err := Compile(expr)
			if allowed[sym] && err != nil {
				t.Errorf("%q: unexpected error %v", expr, err)
			}
			if !allowed[sym] {
				if err == nil {
					t.Errorf("%q: compiled, want an error", expr)
				} else if !strings.Contains(err.Error(), "is not valid for "+subject+"; valid: ") {
					t.Errorf("%q: error %q does not name the valid operators", expr, err)
				}
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"", "must not be empty"},
		{"   ", "must not be empty"},
		{"attribute:ecs.instance-type == t2.small and runningTasksCount equalz 1", "at position 63: expected an operator, found 'equalz'"},
		{"attribute:a", "at position 12: expected an operator, found the end of the expression"},
		{"foo == bar", "at position 1: unknown subject 'foo'"},
		{"attribute: == x", "at position 1: attribute name '' must be 1-128 characters"},
		{"attribute:a$b exists", "attribute name 'a$b' may contain only"},
		{"attribute:a == ", "at position 16: expected a value, found the end"},
		{"attribute:a == x y", "at position 18: expected 'and', 'or' or the end of the expression, found 'y'"},
		{"attribute:a in x", "at position 16: expected '[' to start a list"},
		{"attribute:a in []", "at position 17: the list must not be empty"},
		{"attribute:a in [x y]", "at position 19: expected ',' or ']' to continue the list opened at position 16, found 'y'"},
		{"attribute:a in [x,]", "at position 19: expected a value, found ']'"},
		{"attribute:a == 'x", "at position 16: the quoted value is not closed"},
		{"(attribute:a exists", "at position 20: expected ')' to close the '(' at position 1, found the end of the expression"},
		{"attribute:a exists)", "at position 19: expected 'and', 'or' or the end of the expression, found ')'"},
		{"attribute:a exists and", "at position 23: expected a subject, 'not' or '(', found the end"},
		{"and attribute:a exists", "at position 1: unknown subject 'and'"},
		{"attribute:a === x", "at position 13: expected an operator, found '==='"},
		{"runningTasksCount > many", "at position 21: runningTasksCount takes a whole number, found 'many'"},
		{"agentVersion < latest", "at position 16: agentVersion takes a version like 1.14.5"},
		{"registeredAt < yesterday", "at position 16: registeredAt takes a date"},
		{"registeredAt < 2018-06-18T22:28:28.5Z", "registeredAt takes a date"},
		{"agentConnected == yes", "agentConnected takes true or false, found 'yes'"},
		{"agentConnected in [true, maybe]", "agentConnected takes true or false, found 'maybe'"},
		{"agentVersion exists", "at position 14: operator 'exists' is not valid for agentVersion; valid: ==, !=, >, >=, <, <="},
		{"attribute:a =~ (a", "at position 16: regular expression '(a' is not valid: missing closing )"},
		{"attribute:a =~ *", "regular expression '*' is not valid: missing argument to repetition operator"},
		{strings.Repeat("x", 2001), "at most 2000 characters are allowed, got 2001"},
	}
	for _, c := range cases {
		_, err := Compile(c.expr)
		if err == nil {
			t.Errorf("Compile(%q) succeeded, want error containing %q", c.expr, c.want)
			continue
		}
		if !ecs.IsCode(err, ecs.InvalidParameterException) {
			t.Errorf("Compile(%q) error %v is not an InvalidParameterException", c.expr, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%q) = %q, want it to contain %q", c.expr, err, c.want)
		}
	}
}

func TestJavaRegexDifferences(t *testing.T) {
	rejected := map[string]string{
		`(a)\1`:           "backreferences",
		`(?<n>a)\k<n>`:    "named backreferences",
		`a(?=b)`:          "lookahead",
		`a(?!b)`:          "lookahead",
		`(?<=a)b`:         "lookbehind",
		`(?<!a)b`:         "lookbehind",
		`(?>a)`:           "atomic groups",
		`a*+`:             "possessive",
		`a++`:             "possessive",
		`a?+`:             "possessive",
		`a{2}+`:           "possessive",
		`[a-z&&[^aeiou]]`: "intersection",
		`[a[b]]`:          "nested character classes",
		`(?U)a+`:          "U flag",
		`(?x)a b`:         `'x' flag`,
		`a\Z`:             `\Z`,
		`\u12`:            "four hexadecimal digits",
	}
	for pattern, want := range rejected {
		_, err := Compile("attribute:a =~ '" + pattern + "'")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("pattern %q: error %v, want one mentioning %q", pattern, err, want)
		}
	}
	accepted := []struct {
		pattern, value string
		want           bool
	}{
		{`t2\..*`, "t2.small", true},
		{`t2\..*`, "t2xsmall", false},
		{`\u0074\d\..+`, "t2.small", true},
		{`\Q*.*\E`, "*.*", true},
		{`\Q*.*\E`, "a.b", false},
		{`(?i)T2.*`, "t2.small", true},
		{`(?<kind>t|m)\d.*`, "m5.large", true},
		{`[]a]+`, "]a]", true},
		{`[^]a]+`, "bcd", true},
		{`a+?b`, "aab", true},
		{`small`, "t2.small", false},
	}
	for _, c := range accepted {
		e, err := Compile("attribute:a =~ '" + c.pattern + "'")
		if err != nil {
			t.Errorf("pattern %q: %v", c.pattern, err)
			continue
		}
		got := e.Eval(&box{attrs: map[string]string{"a": c.value}})
		if got != c.want {
			t.Errorf("%q =~ %q = %v, want %v", c.value, c.pattern, got, c.want)
		}
	}
}

func TestVersionOrder(t *testing.T) {
	ordered := []string{"0.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2", "1.14.4", "v1.14.5", "1.14.5.1", "1.20.0+build.7", "10.0"}
	for i := range ordered {
		for j := range ordered {
			a, okA := parseVersion(ordered[i])
			b, okB := parseVersion(ordered[j])
			if !okA || !okB {
				t.Fatalf("cannot parse %q or %q", ordered[i], ordered[j])
			}
			if got, want := a.compare(b), cmpInt(i, j); got != want {
				t.Errorf("compare(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	for _, bad := range []string{"", "1..2", "1.2.3.4.5", "a.b", "1.2-", "1.-2", "1.+2", "1.2-a..b"} {
		if _, ok := parseVersion(bad); ok {
			t.Errorf("parseVersion(%q) succeeded", bad)
		}
	}
	if !mustCompile(t, "agentVersion == 1.14").Eval(&box{version: "1.14.0"}) {
		t.Error("1.14 != 1.14.0")
	}
	if mustCompile(t, "agentVersion != 1.0").Eval(&box{version: "garbage"}) {
		t.Error("an unparseable agent version satisfied !=")
	}
}

// TestMatcherShortcutAgreesWithRegexp: the literal and literal.* shortcuts
// decide exactly as the compiled regular expression does.
func TestMatcherShortcutAgreesWithRegexp(t *testing.T) {
	patterns := []string{`t2.*`, `t2`, `service:.*`, `t2\..*`, `(?s)t2.*`, `(?i)T2.*`, `é.*`, `t2.+`, `.*`, `t2.*x`, `\Qa.b\E.*`}
	values := []string{"", "t2", "t2.small", "t2\nsmall", "xt2", "T2.small", "service:web", "éa", "a.b", "a.bc", "axb"}
	shortcuts := 0
	for _, p := range patterns {
		m, err := compileJavaRegex(p)
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		if m.kind != matchRegexp {
			shortcuts++
		}
		for _, v := range values {
			if got, want := m.match(v), m.re.MatchString(v); got != want {
				t.Errorf("%q on %q: shortcut says %v, regexp %v", p, v, got, want)
			}
		}
	}
	if shortcuts < 5 {
		t.Errorf("only %d patterns took a shortcut", shortcuts)
	}
}
