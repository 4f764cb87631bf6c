package local

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"quamina.net/go/quamina"

	"github.com/berth-run/berth/shared/bus"
)

// ErrUnsupportedPattern marks a valid EventBridge pattern the in-process
// bus cannot evaluate; test with errors.Is.
var ErrUnsupportedPattern = errors.New("pattern not supported by the in-process bus")

// supported is what quamina v1.5.1 evaluates exactly as EventBridge does.
var supported = map[bus.MatchKind]bool{
	bus.MatchExact:            true,
	bus.MatchPrefix:           true,
	bus.MatchEqualsIgnoreCase: true,
	bus.MatchWildcard:         true,
	bus.MatchExists:           true,
	bus.MatchAnythingBut:      true,
}

// hints suggest an equivalent the in-process bus supports.
var hints = map[bus.MatchKind]string{
	bus.MatchAnythingButValue: `; write the value in a list: {"anything-but": ["value"]}`,
	bus.MatchSuffix:           `; {"wildcard": "*<suffix>"} matches the same events`,
	bus.MatchOr:               "; split the rule into one rule per alternative",
}

const supportedList = "exact values, prefix, equals-ignore-case, wildcard, exists and anything-but with a list of strings"

// checkSupported refuses the constructs quamina cannot evaluate, naming the
// first one and where it is.
func checkSupported(p bus.Pattern) error {
	for _, m := range p.Matchers {
		where := m.Path
		if where == "" {
			where = "the top level"
		}
		if !supported[m.Kind] {
			return fmt.Errorf("%w: %s: %q matching is not supported (quamina v1.5.1 evaluates %s)%s",
				ErrUnsupportedPattern, where, m.Kind, supportedList, hints[m.Kind])
		}
		if (m.Kind == bus.MatchExists || m.Kind == bus.MatchAnythingBut) && !m.Alone {
			return fmt.Errorf("%w: %s: %q must be the only value in its array", ErrUnsupportedPattern, where, m.Kind)
		}
	}
	return nil
}

// matcher finds the rules an event matches. Rules are added to one quamina
// instance, which tolerates additions while copies of it match; a removal
// builds a new instance. Each matching goroutine borrows its own copy.
type matcher struct {
	proto  *quamina.Quamina
	copies *sync.Pool
}

func newMatcher() (*matcher, error) {
	q, err := quamina.New()
	if err != nil {
		return nil, fmt.Errorf("create quamina matcher: %w", err)
	}
	return &matcher{proto: q, copies: &sync.Pool{New: func() any { return q.Copy() }}}, nil
}

func (m *matcher) add(name string, p bus.Pattern) error {
	if err := m.proto.AddPattern(name, string(p.JSON)); err != nil {
		return fmt.Errorf("%w: quamina: %w", ErrUnsupportedPattern, err)
	}
	return nil
}

// match returns the names of the rules event (JSON) matches, sorted.
func (m *matcher) match(event []byte) ([]string, error) {
	q := m.copies.Get().(*quamina.Quamina)
	defer m.copies.Put(q)
	xs, err := q.MatchesForEvent(event)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(xs))
	for _, x := range xs {
		if s, ok := x.(string); ok {
			names = append(names, s)
		}
	}
	slices.Sort(names)
	return names, nil
}
