package cql

import (
	"slices"
	"strings"
	"time"
)

// Expr is a compiled cluster query expression. It is immutable and safe for
// concurrent use.
type Expr struct {
	root          node
	usesTaskGroup bool
}

// UsesTaskGroup reports whether the expression mentions task:group, so its
// result for an instance can change as tasks are placed on it.
func (e *Expr) UsesTaskGroup() bool { return e.usesTaskGroup }

// Eval reports whether s satisfies the expression.
func (e *Expr) Eval(s Subject) bool { return e.root.eval(s) }

// String is the canonical form: keywords in lower case, operators as
// symbols, single spaces, the fewest parentheses and quotes that keep the
// meaning. It compiles back to an expression Equal to e.
func (e *Expr) String() string {
	var b strings.Builder
	e.root.write(&b)
	return b.String()
}

// Equal reports whether two expressions have the same structure, ignoring
// spelling (aliases, spacing, quotes, redundant parentheses).
func (e *Expr) Equal(o *Expr) bool {
	if e == nil || o == nil {
		return e == o
	}
	return equalNodes(e.root, o.root)
}

type node interface {
	eval(Subject) bool
	write(*strings.Builder)
}

// andNode and orNode are n-ary: a chain of the same connective is one node,
// so "(a and b) and c" and "a and b and c" are the same expression.
type andNode struct{ terms []node }
type orNode struct{ terms []node }
type notNode struct{ x node }

func (n *andNode) eval(s Subject) bool {
	for _, t := range n.terms {
		if !t.eval(s) {
			return false
		}
	}
	return true
}

func (n *orNode) eval(s Subject) bool {
	for _, t := range n.terms {
		if t.eval(s) {
			return true
		}
	}
	return false
}

func (n *notNode) eval(s Subject) bool { return !n.x.eval(s) }

func (n *andNode) write(b *strings.Builder) {
	for i, t := range n.terms {
		if i > 0 {
			b.WriteString(" and ")
		}
		_, isOr := t.(*orNode)
		writeGrouped(b, t, isOr)
	}
}

func (n *orNode) write(b *strings.Builder) {
	for i, t := range n.terms {
		if i > 0 {
			b.WriteString(" or ")
		}
		t.write(b)
	}
}

func (n *notNode) write(b *strings.Builder) {
	b.WriteString("not ")
	switch n.x.(type) {
	case *andNode, *orNode:
		writeGrouped(b, n.x, true)
	default:
		n.x.write(b)
	}
}

func writeGrouped(b *strings.Builder, n node, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	n.write(b)
	if paren {
		b.WriteByte(')')
	}
}

func equalNodes(a, b node) bool {
	switch x := a.(type) {
	case *andNode:
		y, ok := b.(*andNode)
		return ok && slices.EqualFunc(x.terms, y.terms, equalNodes)
	case *orNode:
		y, ok := b.(*orNode)
		return ok && slices.EqualFunc(x.terms, y.terms, equalNodes)
	case *notNode:
		y, ok := b.(*notNode)
		return ok && equalNodes(x.x, y.x)
	case *term:
		y, ok := b.(*term)
		return ok && x.subject == y.subject && x.name == y.name && x.op == y.op &&
			x.arg == y.arg && slices.Equal(x.list, y.list)
	}
	return false
}

// subjectKind is what a term tests.
type subjectKind int

const (
	subjAgentConnected subjectKind = iota + 1
	subjAgentVersion
	subjAttribute
	subjEC2InstanceID
	subjRegisteredAt
	subjRunningTasksCount
	subjTaskGroup
)

var subjectNames = map[subjectKind]string{
	subjAgentConnected:    "agentConnected",
	subjAgentVersion:      "agentVersion",
	subjAttribute:         "attribute:",
	subjEC2InstanceID:     "ec2InstanceId",
	subjRegisteredAt:      "registeredAt",
	subjRunningTasksCount: "runningTasksCount",
	subjTaskGroup:         "task:group",
}

// op is a comparison operator.
type op int

const (
	opEq op = iota + 1
	opNe
	opGt
	opGe
	opLt
	opLe
	opExists
	opNotExists
	opIn
	opNotIn
	opMatches
	opNotMatches
)

// opSymbols are the canonical spellings, used when printing.
var opSymbols = map[op]string{
	opEq: "==", opNe: "!=", opGt: ">", opGe: ">=", opLt: "<", opLe: "<=",
	opExists: "exists", opNotExists: "!exists", opIn: "in", opNotIn: "!in",
	opMatches: "=~", opNotMatches: "!~",
}

// opWords are the word aliases, matched case-insensitively.
var opWords = map[string]op{
	"equals": opEq, "not_equals": opNe, "greater_than": opGt,
	"greater_than_equal": opGe, "less_than": opLt, "less_than_equal": opLe,
	"exists": opExists, "not_exists": opNotExists, "in": opIn, "not_in": opNotIn,
	"matches": opMatches, "not_matches": opNotMatches,
}

var opSymbolLookup = map[string]op{
	"==": opEq, "!=": opNe, ">": opGt, ">=": opGe, "<": opLt, "<=": opLe,
	"=~": opMatches, "!~": opNotMatches,
}

// validOps lists the operators each subject accepts (reference §4.5), in the
// order error messages name them.
var validOps = map[subjectKind][]op{
	subjAgentConnected:    {opEq, opNe, opIn, opNotIn, opMatches, opNotMatches},
	subjAgentVersion:      {opEq, opNe, opGt, opGe, opLt, opLe},
	subjAttribute:         {opEq, opNe, opGt, opGe, opLt, opLe, opExists, opNotExists, opIn, opNotIn, opMatches, opNotMatches},
	subjEC2InstanceID:     {opEq, opNe, opIn, opNotIn, opMatches, opNotMatches},
	subjRegisteredAt:      {opEq, opNe, opGt, opGe, opLt, opLe},
	subjRunningTasksCount: {opEq, opNe, opGt, opGe, opLt, opLe},
	subjTaskGroup:         {opEq, opNe, opIn, opNotIn, opMatches, opNotMatches, opExists, opNotExists},
}

func (o op) takesList() bool  { return o == opIn || o == opNotIn }
func (o op) takesRegex() bool { return o == opMatches || o == opNotMatches }
func (o op) takesNone() bool  { return o == opExists || o == opNotExists }

// term is one "subject operator [argument]" comparison, with its argument
// compiled for the subject.
type term struct {
	subject subjectKind
	name    string // attribute name for subjAttribute
	op      op
	arg     string   // single argument as written (unquoted)
	list    []string // list argument of in / not_in

	m       matcher // for =~ and !~
	num     float64 // numeric arg of an attribute ordering, when isNum
	isNum   bool
	count   int       // runningTasksCount argument
	ver     version   // agentVersion argument
	lo, hi  time.Time // registeredAt argument as the interval [lo, hi)
	listSet map[string]bool
}

func (t *term) write(b *strings.Builder) {
	b.WriteString(subjectNames[t.subject])
	b.WriteString(t.name)
	b.WriteByte(' ')
	b.WriteString(opSymbols[t.op])
	switch {
	case t.op.takesNone():
	case t.op.takesList():
		b.WriteString(" [")
		for i, v := range t.list {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, v, isBareValue(v))
		}
		b.WriteByte(']')
	case t.op.takesRegex():
		b.WriteByte(' ')
		writeValue(b, t.arg, isBareRegex(t.arg))
	default:
		b.WriteByte(' ')
		writeValue(b, t.arg, isBareValue(t.arg))
	}
}

// writeValue prints v bare when that reads back the same, else in quotes
// that v does not contain (a parsed value never contains both kinds).
func writeValue(b *strings.Builder, v string, bare bool) {
	if bare {
		b.WriteString(v)
		return
	}
	q := byte('\'')
	if strings.IndexByte(v, '\'') >= 0 {
		q = '"'
	}
	b.WriteByte(q)
	b.WriteString(v)
	b.WriteByte(q)
}
