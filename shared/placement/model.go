package placement

import (
	"time"

	"github.com/berth-run/berth/shared/ecs"
	"github.com/berth-run/berth/shared/placement/cql"
)

// Resources are what an instance has left for new tasks.
type Resources struct {
	CPU      int   // CPU units (1024 per vCPU)
	Memory   int   // MiB
	GPUs     int   // GPUs not yet assigned to a task
	Ports    []int // reserved TCP host ports (agent defaults, ECS_RESERVED_PORTS, static ports of tasks)
	PortsUDP []int // reserved UDP host ports
}

// Instance is a container instance as placement sees it. The engine never
// modifies it.
type Instance struct {
	ARN               string
	ID                string // the ARN's last part; named in service event messages
	Status            string // ecs.InstanceActive ...; anything else receives no tasks
	AgentConnected    bool
	AgentVersion      string
	EC2InstanceID     string
	RegisteredAt      time.Time
	Attributes        map[string]string // built-in and custom; an attribute may have an empty value
	Remaining         Resources
	RunningTasksCount int
	// Groups counts the tasks on the instance by task group ("service:web",
	// "family:batch"); it feeds task:group, distinctInstance and spread.
	Groups map[string]int
}

// Subject is the instance as the cluster query language sees it, for
// filters such as ListContainerInstances' filter.
func (in *Instance) Subject() cql.Subject { return &view{in: in} }

// Request asks for Count copies of one task.
type Request struct {
	Count int
	Needs ecs.Requirements
	// Group is the task group ("service:<name>" or "family:<family>", or
	// RunTask's group). distinctInstance, spread and task:group count the
	// tasks of this group.
	Group string
	// Constraints are the caller's (RunTask, CreateService, UpdateService);
	// TaskDefinitionConstraints the task definition's. Both apply, and
	// together they may number at most 10.
	Constraints               []ecs.PlacementConstraint
	TaskDefinitionConstraints []ecs.TaskDefinitionPlacementConstraint
	// Strategies apply in order, each breaking the ties of those before.
	// Empty means no preference: the first eligible instance in input
	// order. Pass ServiceDefaultStrategies or RunTaskDefaultStrategies when
	// the user gave none.
	Strategies []ecs.PlacementStrategy
	// RequiresAttributes are the task definition's requiresAttributes: an
	// instance lacking one (or having another value, when a value is
	// given) is rejected with ATTRIBUTE.
	RequiresAttributes []ecs.Attribute
	// Seed drives the random strategy; the same seed gives the same choice.
	Seed int64
}

// Result is the outcome of Place.
type Result struct {
	// Placements holds, in task order, the instance chosen for each task
	// that could be placed. Tasks are placed one after another, so the
	// placed ones are always the first len(Placements).
	Placements []Placement
	// Unplaced counts the tasks that could not be placed.
	Unplaced int
	// Rejections says, when Unplaced > 0, why each instance (in input
	// order) could not take the first task that did not fit.
	Rejections []Rejection
	// Closest is the rejected instance that got furthest through the
	// filters (ties go to the earliest instance); nil when there were no
	// instances at all.
	Closest *Rejection
}

// Placement is the instance chosen for one task.
type Placement struct {
	Index int // into the instances passed to Place
	ARN   string
}

// Rejection is why an instance could not take a task.
type Rejection struct {
	Index  int
	ARN    string
	ID     string
	Reason string // one of the Reason values, in filter order
}

// Rejection reasons, in the order the filters apply. The first six are
// ECS's failure reasons for RunTask and StartTask; the two constraint
// reasons are the text ECS puts in failures[].reason and service events.
const (
	ReasonInactive         = ecs.ReasonInactive      // status is not ACTIVE (DRAINING included)
	ReasonAgent            = ecs.ReasonAgent         // agent disconnected
	ReasonCPU              = ecs.ReasonResourceCPU   // not enough CPU units left
	ReasonMemory           = ecs.ReasonResourceMem   // not enough memory left
	ReasonGPU              = ecs.ReasonResourceGPU   // not enough free GPUs
	ReasonPorts            = ecs.ReasonResourcePorts // a static TCP host port is taken
	ReasonPortsUDP         = ecs.ReasonResourceUDP   // a static UDP host port is taken
	ReasonAttribute        = ecs.ReasonAttribute     // a required attribute is missing
	ReasonDistinctInstance = "DistinctInstance placement constraint unsatisfied."
	ReasonMemberOf         = "MemberOf placement constraint unsatisfied."
)

// reasonStage is each reason's position in the filter order; a later stage
// is a closer match.
var reasonStage = map[string]int{
	ReasonInactive: 1, ReasonAgent: 2, ReasonCPU: 3, ReasonMemory: 4, ReasonGPU: 5,
	ReasonPorts: 6, ReasonPortsUDP: 7, ReasonAttribute: 8, ReasonDistinctInstance: 9, ReasonMemberOf: 10,
}

// ServiceDefaultStrategies is what ECS applies to a service without
// strategies: spread across Availability Zones, then across instances.
func ServiceDefaultStrategies() []ecs.PlacementStrategy {
	return []ecs.PlacementStrategy{
		{Type: ecs.StrategySpread, Field: "attribute:ecs.availability-zone"},
		{Type: ecs.StrategySpread, Field: "instanceId"},
	}
}

// RunTaskDefaultStrategies is what ECS applies to RunTask without
// strategies: random.
func RunTaskDefaultStrategies() []ecs.PlacementStrategy {
	return []ecs.PlacementStrategy{{Type: ecs.StrategyRandom}}
}
