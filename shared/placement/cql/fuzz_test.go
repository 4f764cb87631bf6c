package cql

import (
	"math"
	"testing"

	"github.com/berth-run/berth/shared/ecs"
)

// FuzzCompile checks that no input panics the parser, that every error is
// an ECS InvalidParameterException, and that the canonical form of every
// accepted expression compiles back to an equal expression that decides
// every instance the same way. The seed corpus is testdata/fuzz/FuzzCompile.
func FuzzCompile(f *testing.F) {
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Compile(expr)
		if err != nil {
			if !ecs.IsCode(err, ecs.InvalidParameterException) {
				t.Fatalf("Compile(%q) error %v is not an InvalidParameterException", expr, err)
			}
			return
		}
		printed := e.String()
		// The canonical form may be longer than the input, so read it
		// back without the length limit.
		back, err := compile(printed, math.MaxInt)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not compile: %v", printed, expr, err)
		}
		if !back.Equal(e) {
			t.Fatalf("canonical form %q of %q reads back different", printed, expr)
		}
		if again := back.String(); again != printed {
			t.Fatalf("canonical form is not stable: %q then %q", printed, again)
		}
		if back.UsesTaskGroup() != e.UsesTaskGroup() {
			t.Fatalf("UsesTaskGroup differs after printing %q", printed)
		}
		checkMatchers(t, e.root)
		for _, b := range []*box{t2, g2, bare} {
			if e.Eval(b) != back.Eval(b) {
				t.Fatalf("%q and its canonical form %q decide an instance differently", expr, printed)
			}
		}
	})
}

// checkMatchers checks every regular expression's shortcut against the
// compiled expression on its own literal and a few neighbours.
func checkMatchers(t *testing.T, n node) {
	switch x := n.(type) {
	case *andNode:
		for _, c := range x.terms {
			checkMatchers(t, c)
		}
	case *orNode:
		for _, c := range x.terms {
			checkMatchers(t, c)
		}
	case *notNode:
		checkMatchers(t, x.x)
	case *term:
		if !x.op.takesRegex() {
			return
		}
		lit := x.m.literal
		for _, v := range []string{"", lit, lit + "x", lit + "\n", "x" + lit, x.arg, "t2.small"} {
			if x.m.match(v) != x.m.re.MatchString(v) {
				t.Fatalf("pattern %q on %q: shortcut and regexp disagree", x.arg, v)
			}
		}
	}
}
