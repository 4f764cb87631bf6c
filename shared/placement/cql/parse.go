package cql

import (
	"fmt"
	"slices"
	"strings"

	"github.com/berth-run/berth/shared/ecs"
)

// MaxLength is the longest expression ECS accepts.
const MaxLength = 2000

// Compile parses and checks expr. A malformed expression is an
// *ecs.Error with code InvalidParameterException that says where (a 1-based
// position) and what went wrong.
func Compile(expr string) (*Expr, error) {
	return compile(expr, MaxLength)
}

func compile(expr string, limit int) (*Expr, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, ecs.InvalidParameter("invalid cluster query expression: must not be empty")
	}
	if len(expr) > limit {
		return nil, ecs.InvalidParameter("invalid cluster query expression: at most %d characters are allowed, got %d", limit, len(expr))
	}
	p := &parser{src: expr}
	root, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return nil, p.errorf(p.pos, "expected 'and', 'or' or the end of the expression, found %s", p.describeNext())
	}
	return &Expr{root: root, usesTaskGroup: p.usesTaskGroup}, nil
}

type parser struct {
	src           string
	pos           int
	usesTaskGroup bool
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return ecs.InvalidParameter("invalid cluster query expression at position %d: %s", pos+1, fmt.Sprintf(format, args...))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isPunct(c byte) bool {
	switch c {
	case '(', ')', '[', ']', ',', '\'', '"':
		return true
	}
	return false
}

func isOpChar(c byte) bool {
	switch c {
	case '=', '!', '<', '>', '~', '&', '|':
		return true
	}
	return false
}

func isWordChar(c byte) bool { return !isSpace(c) && !isPunct(c) && !isOpChar(c) }

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

// wordAt returns the run of word characters starting at i.
func (p *parser) wordAt(i int) string {
	j := i
	for j < len(p.src) && isWordChar(p.src[j]) {
		j++
	}
	return p.src[i:j]
}

func (p *parser) opRunAt(i int) string {
	j := i
	for j < len(p.src) && isOpChar(p.src[j]) {
		j++
	}
	return p.src[i:j]
}

// describeNext names the token at the current position for error messages.
func (p *parser) describeNext() string {
	if p.pos >= len(p.src) {
		return "the end of the expression"
	}
	c := p.src[p.pos]
	switch {
	case isWordChar(c):
		return quoteToken(p.wordAt(p.pos))
	case isOpChar(c):
		return quoteToken(p.opRunAt(p.pos))
	default:
		return quoteToken(string(c))
	}
}

func quoteToken(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return "'" + s + "'"
}

// keywordAt reports whether the word at the current position is kw
// (case-insensitively) and returns its length.
func (p *parser) keywordAt(kw string) (int, bool) {
	w := p.wordAt(p.pos)
	return len(w), w != "" && strings.EqualFold(w, kw)
}

func (p *parser) acceptConnective(word, symbol string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.src[p.pos:], symbol) {
		p.pos += len(symbol)
		return true
	}
	if n, ok := p.keywordAt(word); ok {
		p.pos += n
		return true
	}
	return false
}

func (p *parser) parseOr() (node, error) {
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	terms := []node{first}
	for p.acceptConnective("or", "||") {
		next, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		terms = append(terms, next)
	}
	return flatten(terms, func(n node) ([]node, bool) {
		o, ok := n.(*orNode)
		if !ok {
			return nil, false
		}
		return o.terms, true
	}, func(ts []node) node { return &orNode{terms: ts} }), nil
}

func (p *parser) parseAnd() (node, error) {
	first, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	terms := []node{first}
	for p.acceptConnective("and", "&&") {
		next, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		terms = append(terms, next)
	}
	return flatten(terms, func(n node) ([]node, bool) {
		a, ok := n.(*andNode)
		if !ok {
			return nil, false
		}
		return a.terms, true
	}, func(ts []node) node { return &andNode{terms: ts} }), nil
}

// flatten merges nested chains of the same connective (from parentheses)
// into one n-ary node; a single term stands alone.
func flatten(terms []node, children func(node) ([]node, bool), build func([]node) node) node {
	if len(terms) == 1 {
		return terms[0]
	}
	var out []node
	for _, t := range terms {
		if inner, ok := children(t); ok {
			out = append(out, inner...)
		} else {
			out = append(out, t)
		}
	}
	return build(out)
}

func (p *parser) parseUnary() (node, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.errorf(p.pos, "expected a subject, 'not' or '(', found the end of the expression")
	}
	if p.isNotBang() {
		p.pos++
		return p.parseNot()
	}
	if n, ok := p.keywordAt("not"); ok {
		p.pos += n
		return p.parseNot()
	}
	if p.src[p.pos] == '(' {
		open := p.pos
		p.pos++
		inner, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return nil, p.errorf(p.pos, "expected ')' to close the '(' at position %d, found %s", open+1, p.describeNext())
		}
		p.pos++
		return inner, nil
	}
	return p.parseTerm()
}

// isNotBang reports whether the "!" at the current position is the
// negation connective rather than the start of "!=" or "!~".
func (p *parser) isNotBang() bool {
	if p.src[p.pos] != '!' {
		return false
	}
	next := p.pos + 1
	return next == len(p.src) || (p.src[next] != '=' && p.src[next] != '~')
}

func (p *parser) parseNot() (node, error) {
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	return &notNode{x: x}, nil
}

func (p *parser) parseTerm() (node, error) {
	start := p.pos
	word := p.wordAt(p.pos)
	if word == "" {
		return nil, p.errorf(p.pos, "expected a subject, 'not' or '(', found %s", p.describeNext())
	}
	t, err := p.subject(start, word)
	if err != nil {
		return nil, err
	}
	p.pos += len(word)
	opPos, o, err := p.operator()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(validOps[t.subject], o) {
		return nil, p.errorf(opPos, "operator '%s' is not valid for %s; valid: %s", opSymbols[o], subjectLabel(t), opList(validOps[t.subject]))
	}
	t.op = o
	argPos, err := p.argument(t)
	if err != nil {
		return nil, err
	}
	if err := t.compile(); err != nil {
		return nil, p.errorf(argPos, "%s", err.Error())
	}
	if t.subject == subjTaskGroup {
		p.usesTaskGroup = true
	}
	return t, nil
}

func subjectLabel(t *term) string {
	if t.subject == subjAttribute {
		return "attribute:" + t.name
	}
	return subjectNames[t.subject]
}

func opList(ops []op) string {
	names := make([]string, len(ops))
	for i, o := range ops {
		names[i] = opSymbols[o]
	}
	return strings.Join(names, ", ")
}

var fixedSubjects = map[string]subjectKind{
	"agentConnected":    subjAgentConnected,
	"agentVersion":      subjAgentVersion,
	"ec2InstanceId":     subjEC2InstanceID,
	"registeredAt":      subjRegisteredAt,
	"runningTasksCount": subjRunningTasksCount,
	"task:group":        subjTaskGroup,
}

func (p *parser) subject(pos int, word string) (*term, error) {
	if k, ok := fixedSubjects[word]; ok {
		return &term{subject: k}, nil
	}
	name, ok := strings.CutPrefix(word, "attribute:")
	if !ok {
		return nil, p.errorf(pos, "unknown subject %s; valid: agentConnected, agentVersion, attribute:<name>, ec2InstanceId, registeredAt, runningTasksCount, task:group", quoteToken(word))
	}
	if err := checkAttributeName(name); err != "" {
		return nil, p.errorf(pos, "attribute name %s %s", quoteToken(name), err)
	}
	return &term{subject: subjAttribute, name: name}, nil
}

// checkAttributeName applies ECS's attribute name rule: 1-128 letters,
// digits, hyphens, underscores, slashes, backslashes or periods.
func checkAttributeName(name string) string {
	if name == "" || len(name) > 128 {
		return "must be 1-128 characters"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_/\\.", c) >= 0) {
			return "may contain only letters, digits, hyphens, underscores, slashes, backslashes and periods"
		}
	}
	return ""
}

// operator reads a symbolic or word operator; "!in" and "!exists" are a
// "!" directly followed by the word.
func (p *parser) operator() (int, op, error) {
	p.skipSpace()
	pos := p.pos
	if pos >= len(p.src) {
		return pos, 0, p.errorf(pos, "expected an operator, found the end of the expression")
	}
	if run := p.opRunAt(pos); run != "" {
		if run == "!" {
			w := p.wordAt(pos + 1)
			switch strings.ToLower(w) {
			case "in":
				p.pos += 1 + len(w)
				return pos, opNotIn, nil
			case "exists":
				p.pos += 1 + len(w)
				return pos, opNotExists, nil
			}
		}
		if o, ok := opSymbolLookup[run]; ok {
			p.pos += len(run)
			return pos, o, nil
		}
		return pos, 0, p.errorf(pos, "expected an operator, found %s", quoteToken(run))
	}
	w := p.wordAt(pos)
	if o, ok := opWords[strings.ToLower(w)]; ok {
		p.pos += len(w)
		return pos, o, nil
	}
	return pos, 0, p.errorf(pos, "expected an operator, found %s", p.describeNext())
}

// argument reads what t.op takes and returns where it started.
func (p *parser) argument(t *term) (int, error) {
	p.skipSpace()
	pos := p.pos
	switch {
	case t.op.takesNone():
		return pos, nil
	case t.op.takesList():
		list, err := p.list()
		t.list = list
		return pos, err
	case t.op.takesRegex():
		v, err := p.value(true)
		t.arg = v
		return pos, err
	default:
		v, err := p.value(false)
		t.arg = v
		return pos, err
	}
}

func (p *parser) list() ([]string, error) {
	if p.pos >= len(p.src) || p.src[p.pos] != '[' {
		return nil, p.errorf(p.pos, "expected '[' to start a list like [a, b], found %s", p.describeNext())
	}
	open := p.pos
	p.pos++
	var out []string
	for {
		p.skipSpace()
		if len(out) == 0 && p.pos < len(p.src) && p.src[p.pos] == ']' {
			return nil, p.errorf(p.pos, "the list must not be empty")
		}
		v, err := p.value(false)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.skipSpace()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == ']' {
			p.pos++
			return out, nil
		}
		return nil, p.errorf(p.pos, "expected ',' or ']' to continue the list opened at position %d, found %s", open+1, p.describeNext())
	}
}

// value reads a quoted or bare value; regex selects the bare-regex rule.
func (p *parser) value(regex bool) (string, error) {
	p.skipSpace()
	start := p.pos
	if start >= len(p.src) {
		return "", p.errorf(start, "expected a value, found the end of the expression")
	}
	if q := p.src[start]; q == '\'' || q == '"' {
		end := strings.IndexByte(p.src[start+1:], q)
		if end < 0 {
			return "", p.errorf(start, "the quoted value is not closed (no matching %c)", q)
		}
		p.pos = start + 1 + end + 1
		return p.src[start+1 : start+1+end], nil
	}
	var n int
	if regex {
		n = scanBareRegex(p.src[start:])
	} else {
		n = len(p.wordAt(start))
	}
	if n == 0 {
		return "", p.errorf(start, "expected a value, found %s", p.describeNext())
	}
	p.pos += n
	return p.src[start:p.pos], nil
}

// scanBareRegex returns the length of the bare regular expression at the
// start of s: up to a space, a quote, "&&", "||", or a ")" that closes
// nothing opened in the pattern. Escaped characters and character classes do not count
// toward parenthesis depth.
func scanBareRegex(s string) int {
	depth, inClass := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isSpace(c) || c == '\'' || c == '"' || isConnectiveAt(s, i) {
			return i
		}
		switch {
		case c == '\\':
			if i+1 < len(s) && !isSpace(s[i+1]) && s[i+1] != '\'' && s[i+1] != '"' {
				i++
			}
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(s) && s[i+1] == '^' {
				i++
			}
			if i+1 < len(s) && s[i+1] == ']' {
				i++
			}
		case c == '(':
			depth++
		case c == ')':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return len(s)
}

// isConnectiveAt reports whether s[i:] starts with "&&" or "||", which end
// a bare regular expression so "a =~ t2.*&&b exists" reads as intended.
func isConnectiveAt(s string, i int) bool {
	return i+1 < len(s) && (s[i] == '&' && s[i+1] == '&' || s[i] == '|' && s[i+1] == '|')
}

// isBareValue reports whether v reads back unchanged when printed unquoted
// as a plain value.
func isBareValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isWordChar(v[i]) {
			return false
		}
	}
	return true
}

// isBareRegex reports whether v reads back unchanged when printed unquoted
// as a regular expression, whether followed by a space, ")" or the end.
func isBareRegex(v string) bool {
	if v == "" || scanBareRegex(v) != len(v) {
		return false
	}
	return scanBareRegex(v+")") == len(v)
}
