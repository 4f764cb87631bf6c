package placement

import (
	"slices"
	"strconv"
	"strings"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement/cql"
)

// compKind is one strategy rule, normalized.
type compKind uint8

const (
	compSpreadAttr     compKind = iota // spread on attribute:<name>: fewest tasks per value
	compSpreadInstance                 // spread on instanceId/host: fewest tasks per instance
	compBinpackCPU                     // least CPU left
	compBinpackMemory                  // least memory left
	compRandom                         // uniform among the ties so far
)

type comp struct {
	kind compKind
	attr string // for compSpreadAttr
}

// plan is a validated request in the form the engine and the oracle use.
type plan struct {
	count      int
	needs      ecs.Requirements // ports deduplicated and sorted
	group      string
	distinct   bool
	exprs      []*cql.Expr
	dynamic    bool // some expression mentions task:group
	attributes []ecs.Attribute
	comps      []comp // strategies, cut after the first random (nothing follows it)
	seed       int64
}

// Validate checks a request as ECS checks RunTask, CreateService and
// UpdateService input: at most 10 constraints (task definition's included)
// and 5 strategies, known types and fields, well-formed expressions. The
// error is an *ecs.Error (InvalidParameterException) naming the field.
func Validate(req Request) error {
	_, err := compileRequest(req)
	return err
}

func compileRequest(req Request) (*plan, error) {
	if req.Count < 1 {
		return nil, ecs.InvalidParameter("count: must be at least 1, got %d", req.Count)
	}
	if err := checkNeeds(req.Needs); err != nil {
		return nil, err
	}
	p := &plan{count: req.Count, group: req.Group, attributes: req.RequiresAttributes, seed: req.Seed}
	p.needs = req.Needs
	p.needs.Ports = sortedSet(req.Needs.Ports)
	p.needs.PortsUDP = sortedSet(req.Needs.PortsUDP)
	if err := p.addConstraints(req); err != nil {
		return nil, err
	}
	if err := p.addStrategies(req.Strategies); err != nil {
		return nil, err
	}
	return p, nil
}

func checkNeeds(n ecs.Requirements) error {
	if n.CPU < 0 || n.Memory < 0 || n.GPUs < 0 {
		return ecs.InvalidParameter("task resources: cpu, memory and GPUs must not be negative")
	}
	for _, ports := range [][]int{n.Ports, n.PortsUDP} {
		for _, port := range ports {
			if port < 1 || port > 65535 {
				return ecs.InvalidParameter("task resources: host port %d is not a port number (1-65535)", port)
			}
		}
	}
	return nil
}

func sortedSet(ports []int) []int {
	out := slices.Clone(ports)
	slices.Sort(out)
	return slices.Compact(out)
}

func (p *plan) addConstraints(req Request) error {
	total := len(req.Constraints) + len(req.TaskDefinitionConstraints)
	if total > ecs.MaxConstraints {
		return ecs.InvalidParameter("placementConstraints: at most %d constraints are allowed, counting the task definition's; got %d", ecs.MaxConstraints, total)
	}
	for i, c := range req.TaskDefinitionConstraints {
		field := "taskDefinition.placementConstraints[" + strconv.Itoa(i) + "]"
		if c.Type != ecs.ConstraintMemberOf {
			return ecs.InvalidParameter("%s.type: %q is not valid in a task definition; valid: memberOf", field, c.Type)
		}
		if err := p.addMemberOf(field, c.Expression); err != nil {
			return err
		}
	}
	for i, c := range req.Constraints {
		field := "placementConstraints[" + strconv.Itoa(i) + "]"
		switch c.Type {
		case ecs.ConstraintDistinctInstance:
			if c.Expression != "" {
				return ecs.InvalidParameter("%s.expression: distinctInstance takes no expression", field)
			}
			p.distinct = true
		case ecs.ConstraintMemberOf:
			if err := p.addMemberOf(field, c.Expression); err != nil {
				return err
			}
		default:
			return ecs.InvalidParameter("%s.type: %q is not valid; valid: distinctInstance, memberOf", field, c.Type)
		}
	}
	return nil
}

func (p *plan) addMemberOf(field, expr string) error {
	if expr == "" {
		return ecs.InvalidParameter("%s.expression: memberOf needs an expression", field)
	}
	e, err := cql.Compile(expr)
	if err != nil {
		msg := err.Error()
		if ee, ok := ecs.AsError(err); ok {
			msg = ee.Message
		}
		return ecs.InvalidParameter("%s.expression: %s", field, msg)
	}
	p.exprs = append(p.exprs, e)
	p.dynamic = p.dynamic || e.UsesTaskGroup()
	return nil
}

func (p *plan) addStrategies(strategies []ecs.PlacementStrategy) error {
	if len(strategies) > ecs.MaxStrategies {
		return ecs.InvalidParameter("placementStrategy: at most %d strategies are allowed, got %d", ecs.MaxStrategies, len(strategies))
	}
	for i, s := range strategies {
		c, err := strategyComp("placementStrategy["+strconv.Itoa(i)+"]", s)
		if err != nil {
			return err
		}
		// A random rule breaks every tie, so rules after it cannot matter;
		// they are still validated.
		if !p.hasRandom() {
			p.comps = append(p.comps, c)
		}
	}
	return nil
}

func (p *plan) hasRandom() bool {
	return len(p.comps) > 0 && p.comps[len(p.comps)-1].kind == compRandom
}

func strategyComp(field string, s ecs.PlacementStrategy) (comp, error) {
	switch s.Type {
	case ecs.StrategyRandom:
		// ECS ignores the field of a random rule.
		return comp{kind: compRandom}, nil
	case ecs.StrategyBinpack:
		switch strings.ToLower(s.Field) {
		case "cpu":
			return comp{kind: compBinpackCPU}, nil
		case "memory":
			return comp{kind: compBinpackMemory}, nil
		}
		return comp{}, ecs.InvalidParameter("%s.field: binpack takes cpu or memory, got %q", field, s.Field)
	case ecs.StrategySpread:
		if strings.EqualFold(s.Field, "instanceId") || strings.EqualFold(s.Field, "host") {
			return comp{kind: compSpreadInstance}, nil
		}
		if name, ok := strings.CutPrefix(s.Field, "attribute:"); ok && validAttributeName(name) {
			return comp{kind: compSpreadAttr, attr: name}, nil
		}
		return comp{}, ecs.InvalidParameter("%s.field: spread takes instanceId, host or attribute:<name>, got %q", field, s.Field)
	}
	return comp{}, ecs.InvalidParameter("%s.type: %q is not valid; valid: random, spread, binpack", field, s.Type)
}

func validAttributeName(name string) bool {
	return ecs.ValidateAttribute("", ecs.Attribute{Name: name}) == nil
}
