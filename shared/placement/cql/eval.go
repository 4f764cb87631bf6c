package cql

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Subject is a container instance as the query language sees it. Each
// method answers one subject of the language.
type Subject interface {
	AgentConnected() bool
	// AgentVersion is the agent's version, e.g. "1.14.5"; "" if unknown.
	AgentVersion() string
	// Attribute returns the named attribute's value and whether the
	// instance has it (an attribute may have an empty value).
	Attribute(name string) (string, bool)
	// EC2InstanceID is "" when the instance is not an EC2 instance.
	EC2InstanceID() string
	// RegisteredAt is the zero time if unknown.
	RegisteredAt() time.Time
	RunningTasksCount() int
	// TaskGroupCount is how many tasks of group the instance hosts.
	TaskGroupCount(group string) int
	// TaskGroups yields each task group with at least one task on the
	// instance, until yield returns false.
	TaskGroups(yield func(group string) bool)
}

// compile checks the argument against the subject and prepares it for
// evaluation.
func (t *term) compile() error {
	if t.op.takesRegex() {
		m, err := compileJavaRegex(t.arg)
		if err != nil {
			return err
		}
		t.m = m
		return nil
	}
	if t.op.takesList() {
		t.listSet = make(map[string]bool, len(t.list))
		for _, v := range t.list {
			if err := t.checkScalar(v); err != nil {
				return err
			}
			t.listSet[t.normalize(v)] = true
		}
		return nil
	}
	if t.op.takesNone() {
		return nil
	}
	return t.checkScalar(t.arg)
}

// normalize puts agentConnected arguments in the case Eval compares with.
func (t *term) normalize(v string) string {
	if t.subject == subjAgentConnected {
		return strings.ToLower(v)
	}
	return v
}

// checkScalar validates a single argument for the subject and keeps its
// parsed form.
func (t *term) checkScalar(v string) error {
	switch t.subject {
	case subjAgentConnected:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return fmt.Errorf("agentConnected takes true or false, found %s", quoteToken(v))
		}
		t.arg = strings.ToLower(t.arg)
	case subjAgentVersion:
		ver, ok := parseVersion(v)
		if !ok {
			return fmt.Errorf("agentVersion takes a version like 1.14.5, found %s", quoteToken(v))
		}
		t.ver = ver
	case subjRegisteredAt:
		lo, hi, ok := parseDate(v)
		if !ok {
			return fmt.Errorf("registeredAt takes a date as 2018-06-18T22:28:28+00:00, 2018-06-18T22:28:28Z, 2018-06-18T22:28:28 or 2018-06-18, found %s", quoteToken(v))
		}
		t.lo, t.hi = lo, hi
	case subjRunningTasksCount:
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("runningTasksCount takes a whole number, found %s", quoteToken(v))
		}
		t.count = n
	case subjAttribute:
		if f, ok := parseNumber(v); ok {
			t.num, t.isNum = f, true
		}
	}
	return nil
}

// parseNumber accepts plain decimal numbers only (not hex, inf or NaN).
func parseNumber(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func (t *term) eval(s Subject) bool {
	switch t.subject {
	case subjAttribute:
		v, ok := s.Attribute(t.name)
		switch t.op {
		case opExists:
			return ok
		case opNotExists:
			return !ok
		}
		return ok && t.evalString(v)
	case subjEC2InstanceID:
		v := s.EC2InstanceID()
		return v != "" && t.evalString(v)
	case subjAgentConnected:
		return t.evalString(strconv.FormatBool(s.AgentConnected()))
	case subjAgentVersion:
		v, ok := parseVersion(s.AgentVersion())
		return ok && t.ordered(v.compare(t.ver))
	case subjRegisteredAt:
		return t.evalTime(s.RegisteredAt())
	case subjRunningTasksCount:
		return t.ordered(cmpInt(s.RunningTasksCount(), t.count))
	case subjTaskGroup:
		return t.evalTaskGroup(s)
	}
	return false
}

// evalString applies the operator to a present string value.
func (t *term) evalString(v string) bool {
	switch t.op {
	case opEq:
		return v == t.arg
	case opNe:
		return v != t.arg
	case opIn:
		return t.listSet[v]
	case opNotIn:
		return !t.listSet[v]
	case opMatches:
		return t.m.match(v)
	case opNotMatches:
		return !t.m.match(v)
	case opGt, opGe, opLt, opLe:
		return t.ordered(t.compareValue(v))
	}
	return false
}

// compareValue orders an attribute value against the argument: as numbers
// when both are, else as strings.
func (t *term) compareValue(v string) int {
	if t.isNum {
		if f, ok := parseNumber(v); ok {
			switch {
			case f < t.num:
				return -1
			case f > t.num:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(v, t.arg)
}

// ordered turns a comparison result into the operator's verdict.
func (t *term) ordered(c int) bool {
	switch t.op {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opGt:
		return c > 0
	case opGe:
		return c >= 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	}
	return false
}

// evalTime compares against the interval [lo, hi) the argument names.
func (t *term) evalTime(at time.Time) bool {
	if at.IsZero() {
		return false
	}
	within := !at.Before(t.lo) && at.Before(t.hi)
	switch t.op {
	case opEq:
		return within
	case opNe:
		return !within
	case opGt:
		return !at.Before(t.hi)
	case opGe:
		return !at.Before(t.lo)
	case opLt:
		return at.Before(t.lo)
	case opLe:
		return at.Before(t.hi)
	}
	return false
}

func (t *term) evalTaskGroup(s Subject) bool {
	switch t.op {
	case opEq:
		return s.TaskGroupCount(t.arg) > 0
	case opNe:
		return s.TaskGroupCount(t.arg) == 0
	case opIn, opNotIn:
		hit := false
		for _, g := range t.list {
			if s.TaskGroupCount(g) > 0 {
				hit = true
				break
			}
		}
		return hit == (t.op == opIn)
	case opExists, opNotExists:
		return anyGroup(s, func(string) bool { return true }) == (t.op == opExists)
	case opMatches, opNotMatches:
		return anyGroup(s, t.m.match) == (t.op == opMatches)
	}
	return false
}

func anyGroup(s Subject, pred func(string) bool) bool {
	found := false
	s.TaskGroups(func(g string) bool {
		if pred(g) {
			found = true
			return false
		}
		return true
	})
	return found
}
