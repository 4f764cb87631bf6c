package main

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/bus"
	"github.com/berth-run/berth/shared/store/dynamo"
	"github.com/berth-run/berth/shared/store/dynamo/dynamotest"
)

// The tests synthesize without network or AWS credentials. Function code
// comes from a temporary asset directory holding a small bootstrap file per
// function, each with distinct content, so a test can tell which bundle a
// function deploys without cross-compiling the real functions (make synth
// and `cdk deploy` use dist/functions, built by make build).

// synthesized is one synthesized stack and what the tests read from it.
type synthesized struct {
	stack     *BerthStack
	template  assertions.Template
	resources map[string]resource
	outputs   map[string]any
	outdir    string
	functions []Function
	config    testConfig
}

type resource struct {
	Type                string
	Properties          map[string]any
	Metadata            map[string]any
	DeletionPolicy      string
	UpdateReplacePolicy string
}

func bootstrapContent(name string) string { return "bootstrap of the " + name + " function\n" }

// buildAssets writes a bootstrap for each function into a fresh asset
// directory.
func buildAssets(t *testing.T, dir string, fns []Function) string {
	t.Helper()
	assets := filepath.Join(dir, "functions")
	for _, f := range fns {
		dir := filepath.Join(assets, f.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte(bootstrapContent(f.Name)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return assets
}

// testConfig is one configuration of the stack the tests synthesize.
type testConfig struct {
	functions func() []Function
	// fleet, when set, adds the fleet; synth supplies its agent binary.
	fleet *FleetProps
	email string
}

// The configurations the tests synthesize, each once per test binary (a
// synthesis takes seconds): the default control plane, one with every
// shared/bus target declared, and the fleet with and without an alarm
// email.
var (
	configs = map[string]testConfig{
		"default":             {functions: DefaultFunctions},
		"every target":        {functions: withTestFunctions},
		"fleet":               {functions: DefaultFunctions, fleet: &FleetProps{Size: 3, InstanceType: "m7g.medium", Cluster: "web"}, email: "ops@example.com"},
		"fleet without email": {functions: DefaultFunctions, fleet: &FleetProps{}},
	}
	synthMu sync.Mutex
	synths  = map[string]*synthesized{}
	scratch string
)

func TestMain(m *testing.M) {
	// jsii runs the CDK in a Node.js process: without node nothing here can run.
	if _, err := exec.LookPath("node"); err != nil {
		if testenv.InCI() {
			fmt.Fprintln(os.Stderr, "CI=true but node is not on PATH: the CDK tests need Node.js")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "SKIPPED: every infra test: node is not on PATH (jsii runs the CDK in Node.js); install Node.js to run them (required under CI=true)")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "berth-infra-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scratch = dir
	code := m.Run()
	dynamotest.StopShared()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// synthConfig is the synthesized stack of a named configuration.
func synthConfig(t *testing.T, name string) *synthesized {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synths[name]; ok {
		return s
	}
	dir, err := os.MkdirTemp(scratch, "synth-")
	if err != nil {
		t.Fatal(err)
	}
	s := synth(t, dir, configs[name])
	synths[name] = s
	return s
}

// synth builds a stack of a configuration with cdk-nag's AwsSolutions
// pack applied, as the app does, and synthesizes it into a cloud assembly
// under dir.
func synth(t *testing.T, dir string, cfg testConfig) *synthesized {
	t.Helper()
	fns := cfg.functions()
	props := StackProps{Functions: fns, AssetDir: buildAssets(t, dir, fns), AlarmEmail: cfg.email}
	if cfg.fleet != nil {
		fleet := *cfg.fleet
		fleet.AgentBinary = writeAgentBinary(t, dir, elf.EM_AARCH64)
		props.Fleet = &fleet
	}
	outdir := filepath.Join(dir, "cdk.out")
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	stack, err := NewBerthStack(app, "BerthStack", props)
	if err != nil {
		t.Fatal(err)
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	tmpl := assertions.Template_FromStack(stack.Stack, nil)
	s := &synthesized{stack: stack, template: tmpl, outdir: outdir, functions: fns, config: cfg}
	var doc struct {
		Resources map[string]resource
		Outputs   map[string]any
	}
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	s.resources, s.outputs = doc.Resources, doc.Outputs
	return s
}

// ofType lists the logical IDs of the resources of one type, sorted.
func (s *synthesized) ofType(typ string) []string {
	var ids []string
	for id, r := range s.resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// only returns the one resource of a type.
func (s *synthesized) only(t *testing.T, typ string) (string, resource) {
	t.Helper()
	ids := s.ofType(typ)
	if len(ids) != 1 {
		t.Fatalf("want one %s, got %v", typ, ids)
	}
	return ids[0], s.resources[ids[0]]
}

// logicalID is the logical ID of the CloudFormation resource under a
// construct, as the template names it.
func (s *synthesized) logicalID(child any) string {
	return *s.stack.GetLogicalId(child.(awscdk.CfnElement))
}

func (s *synthesized) functionID(name string) string {
	return s.logicalID(s.stack.Functions[name].Node().DefaultChild())
}

// ref is the JSON of a reference to another resource, as CloudFormation
// writes it.
func ref(id string) any          { return map[string]any{"Ref": id} }
func getAtt(id, attr string) any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }
func jsonEqual(a, b any) bool    { return reflect.DeepEqual(normalize(a), normalize(b)) }
func normalize(v any) any {
	raw, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(raw, &out)
	return out
}

// withTestFunctions is the default control plane plus a function named as
// every target of shared/bus that has no function yet (the scaler), so
// every rule is deployed and both delivery paths are exercised.
func withTestFunctions() []Function {
	fns := DefaultFunctions()
	for _, target := range []string{bus.TargetReconciler, bus.TargetScaler, bus.TargetMonitor} {
		if !slices.ContainsFunc(fns, func(f Function) bool { return f.Name == target }) {
			fns = append(fns, Function{Name: target, Description: "test " + target, MemoryMB: 256, Timeout: 30 * time.Second,
				Trigger: TriggerEvents, Access: TableReadWrite, RetryAttempts: 3})
		}
	}
	return fns
}

func TestStack(t *testing.T) {
	for name := range configs {
		t.Run(name, func(t *testing.T) {
			s := synthConfig(t, name)
			counts := map[string]int{}
			for _, r := range s.resources {
				counts[r.Type]++
			}
			t.Logf("%s: %d resources: %v", name, len(s.resources), counts)
			t.Run("table", s.checkTable)
			t.Run("functions", s.checkFunctions)
			t.Run("function url", s.checkFunctionURL)
			t.Run("stream source", s.checkStreamSource)
			t.Run("rules", s.checkRules)
			t.Run("queues", s.checkQueues)
			t.Run("iam", s.checkIAM)
			t.Run("agent role", s.checkAgentRole)
			t.Run("fleet", s.checkFleet)
			t.Run("dead-letter alarms", s.checkDeadLetterAlarms)
			t.Run("outputs", s.checkOutputs)
			t.Run("cdk-nag", s.checkNag)
		})
	}
}

func (s *synthesized) checkTable(t *testing.T) {
	_, table := s.only(t, "AWS::DynamoDB::Table")
	if table.DeletionPolicy != "Retain" || table.UpdateReplacePolicy != "Retain" {
		t.Errorf("table policies: deletion %q, update-replace %q; want Retain", table.DeletionPolicy, table.UpdateReplacePolicy)
	}
	p := table.Properties
	want := map[string]any{
		"KeySchema": []any{
			map[string]any{"AttributeName": dynamo.AttrPK, "KeyType": "HASH"},
			map[string]any{"AttributeName": dynamo.AttrSK, "KeyType": "RANGE"},
		},
		"BillingMode":                      "PAY_PER_REQUEST",
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": dynamo.AttrTTL, "Enabled": true},
		"StreamSpecification":              map[string]any{"StreamViewType": "NEW_AND_OLD_IMAGES"},
		"GlobalSecondaryIndexes": []any{
			gsi(dynamo.IndexGSI1, dynamo.AttrGSI1PK, dynamo.AttrGSI1SK),
			gsi(dynamo.IndexGSI2, dynamo.AttrGSI2PK, dynamo.AttrGSI2SK),
		},
	}
	for k, v := range want {
		if !jsonEqual(p[k], v) {
			t.Errorf("table %s = %v, want %v", k, p[k], v)
		}
	}
	var attrs []string
	for _, a := range p["AttributeDefinitions"].([]any) {
		def := a.(map[string]any)
		if def["AttributeType"] != "S" {
			t.Errorf("attribute %v: want type S", def)
		}
		attrs = append(attrs, def["AttributeName"].(string))
	}
	sort.Strings(attrs)
	if want := []string{dynamo.AttrGSI1PK, dynamo.AttrGSI1SK, dynamo.AttrGSI2PK, dynamo.AttrGSI2SK, dynamo.AttrPK, dynamo.AttrSK}; !slices.Equal(attrs, want) {
		t.Errorf("attribute definitions %v, want exactly the key attributes %v", attrs, want)
	}
	for _, k := range []string{"ProvisionedThroughput", "TableName"} {
		if _, ok := p[k]; ok {
			t.Errorf("table sets %s; want on-demand and a generated name", k)
		}
	}
}

func gsi(name, pk, sk string) map[string]any {
	return map[string]any{
		"IndexName": name,
		"KeySchema": []any{
			map[string]any{"AttributeName": pk, "KeyType": "HASH"},
			map[string]any{"AttributeName": sk, "KeyType": "RANGE"},
		},
		"Projection": map[string]any{"ProjectionType": "ALL"},
	}
}

func (s *synthesized) checkFunctions(t *testing.T) {
	if ids := s.ofType("AWS::Lambda::Function"); len(ids) != len(s.functions) {
		t.Fatalf("%d functions in the template, %d declared", len(ids), len(s.functions))
	}
	tableID := s.logicalID(s.stack.Table.Node().DefaultChild())
	busID := s.logicalID(s.stack.Bus.Node().DefaultChild())
	for _, f := range s.functions {
		id := s.functionID(f.Name)
		fn := s.resources[id]
		p := fn.Properties
		if !jsonEqual(p["Architectures"], []any{"arm64"}) || p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" {
			t.Errorf("%s: architectures %v runtime %v handler %v", f.Name, p["Architectures"], p["Runtime"], p["Handler"])
		}
		if p["MemorySize"] != float64(f.MemoryMB) || p["Timeout"] != f.Timeout.Seconds() {
			t.Errorf("%s: memory %v timeout %v", f.Name, p["MemorySize"], p["Timeout"])
		}
		s.checkAsset(t, f, p["Code"])
		env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		if !jsonEqual(env[EnvAccountID], ref("AWS::AccountId")) {
			t.Errorf("%s: %s = %v", f.Name, EnvAccountID, env[EnvAccountID])
		}
		if got, want := env[EnvTableName], any(nil); f.Access&TableReadWrite != 0 {
			if !jsonEqual(got, ref(tableID)) {
				t.Errorf("%s: %s = %v, want the table", f.Name, EnvTableName, got)
			}
		} else if got != want {
			t.Errorf("%s: has %s but no table access", f.Name, EnvTableName)
		}
		for name, declared := range map[string]bool{EnvDynamoDBEndpoint: f.Access&TableReadWrite != 0, EnvEventsEndpoint: f.Access&PutEvents != 0} {
			if v, ok := env[name]; ok != declared || (ok && v != "") {
				t.Errorf("%s: %s = %v (declared %v); want it declared empty exactly when the function uses the service", f.Name, name, v, ok)
			}
		}
		if got := env[EnvEventBusName]; f.Access&PutEvents != 0 {
			if !jsonEqual(got, ref(busID)) {
				t.Errorf("%s: %s = %v, want the bus", f.Name, EnvEventBusName, got)
			}
		} else if got != nil {
			t.Errorf("%s: has %s but may not put events", f.Name, EnvEventBusName)
		}
		logs, ok := p["LoggingConfig"].(map[string]any)
		if !ok {
			t.Fatalf("%s: no LoggingConfig", f.Name)
		}
		group := s.resources[logs["LogGroup"].(map[string]any)["Ref"].(string)]
		if group.Type != "AWS::Logs::LogGroup" || group.Properties["RetentionInDays"] != float64(30) {
			t.Errorf("%s: log group %+v", f.Name, group)
		}
	}
}

// checkAsset checks that a function deploys the bundle of its own asset
// directory: the staged copy its S3 key names holds its bootstrap.
func (s *synthesized) checkAsset(t *testing.T, f Function, code any) {
	t.Helper()
	key, _ := code.(map[string]any)["S3Key"].(string)
	hash, ok := strings.CutSuffix(key, ".zip")
	if !ok {
		t.Errorf("%s: code S3Key %q is not an asset", f.Name, key)
		return
	}
	got, err := os.ReadFile(filepath.Join(s.outdir, "asset."+hash, "bootstrap"))
	if err != nil {
		t.Errorf("%s: staged asset: %v", f.Name, err)
		return
	}
	if string(got) != bootstrapContent(f.Name) {
		t.Errorf("%s deploys the bundle %q", f.Name, got)
	}
}

func (s *synthesized) checkFunctionURL(t *testing.T) {
	_, url := s.only(t, "AWS::Lambda::Url")
	if url.Properties["AuthType"] != "AWS_IAM" {
		t.Errorf("function URL auth %v, want AWS_IAM", url.Properties["AuthType"])
	}
	if !jsonEqual(url.Properties["TargetFunctionArn"], getAtt(s.functionID("api"), "Arn")) {
		t.Errorf("function URL targets %v, want the api function", url.Properties["TargetFunctionArn"])
	}
	assertNoPanic(t, func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Url"), map[string]any{"AuthType": "AWS_IAM", "Cors": assertions.Match_Absent()})
	})
}

func (s *synthesized) checkStreamSource(t *testing.T) {
	var stream []resource
	for _, id := range s.ofType("AWS::Lambda::EventSourceMapping") {
		if r := s.resources[id]; r.Properties["EventSourceArn"] != nil && jsonEqual(r.Properties["EventSourceArn"], getAtt(s.logicalID(s.stack.Table.Node().DefaultChild()), "StreamArn")) {
			stream = append(stream, r)
		}
	}
	if len(stream) != 1 {
		t.Fatalf("want one mapping from the table's stream, got %d", len(stream))
	}
	p := stream[0].Properties
	want := map[string]any{
		"FunctionName":               ref(s.functionID("publisher")),
		"StartingPosition":           "TRIM_HORIZON",
		"BatchSize":                  100,
		"BisectBatchOnFunctionError": true,
		"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
		"MaximumRetryAttempts":       10,
	}
	for k, v := range want {
		if !jsonEqual(p[k], v) {
			t.Errorf("stream mapping %s = %v, want %v", k, p[k], v)
		}
	}
	dest := p["DestinationConfig"].(map[string]any)["OnFailure"].(map[string]any)["Destination"].(map[string]any)["Fn::GetAtt"].([]any)
	dlq := s.resources[dest[0].(string)]
	if dlq.Type != "AWS::SQS::Queue" || dlq.Properties["SqsManagedSseEnabled"] != true {
		t.Errorf("stream failures go to %v: %+v; want an encrypted queue", dest, dlq)
	}
}

// ruleByDescription finds the deployed rule made from a shared definition.
func (s *synthesized) ruleByDescription(description string) (resource, bool) {
	for _, id := range s.ofType("AWS::Events::Rule") {
		if r := s.resources[id]; r.Properties["Description"] == description {
			return r, true
		}
	}
	return resource{}, false
}

func (s *synthesized) declared(target string) (Function, bool) {
	for _, f := range s.functions {
		if f.Name == target && f.Trigger == TriggerEvents {
			return f, true
		}
	}
	return Function{}, false
}

func (s *synthesized) checkRules(t *testing.T) {
	busID := s.logicalID(s.stack.Bus.Node().DefaultChild())
	deployed := 0
	for _, r := range bus.Rules() {
		rule, ok := s.ruleByDescription(r.Description)
		f, declared := s.declared(r.Target)
		if ok != declared {
			t.Errorf("rule %s: deployed %v, but its target %s is declared: %v", r.Name, ok, r.Target, declared)
			continue
		}
		if !ok {
			continue
		}
		deployed++
		var want, got any
		if err := json.Unmarshal(r.Pattern, &want); err != nil {
			t.Fatal(err)
		}
		got = normalize(rule.Properties["EventPattern"])
		if !reflect.DeepEqual(got, want) {
			t.Errorf("rule %s: pattern %v, want the shared definition %v", r.Name, got, want)
		}
		aws, _ := fromAWSServices(r.Pattern)
		if bus := rule.Properties["EventBusName"]; aws && bus != nil {
			t.Errorf("rule %s matches AWS service events but is on bus %v, not the default bus", r.Name, bus)
		} else if !aws && !jsonEqual(bus, ref(busID)) {
			t.Errorf("rule %s is on bus %v, want Berth's bus", r.Name, bus)
		}
		s.checkTarget(t, r.Name, rule, f)
	}
	for _, sch := range bus.Schedules() {
		rule, ok := s.ruleByDescription(sch.Description)
		f, declared := s.declared(sch.Target)
		if ok != declared {
			t.Errorf("schedule %s: deployed %v, target declared %v", sch.Name, ok, declared)
			continue
		}
		if !ok {
			continue
		}
		deployed++
		if rule.Properties["ScheduleExpression"] != sch.Expression || rule.Properties["EventBusName"] != nil {
			t.Errorf("schedule %s: %v on %v", sch.Name, rule.Properties["ScheduleExpression"], rule.Properties["EventBusName"])
		}
		s.checkTarget(t, sch.Name, rule, f)
	}
	if n := len(s.ofType("AWS::Events::Rule")); n != deployed {
		t.Errorf("%d rules in the template, %d from shared/bus", n, deployed)
	}
	if deployed == 0 {
		t.Error("no rule deployed")
	}
}

// checkTarget checks a rule delivers to f: to its queue when f is queued,
// else by invoking f with f's retry policy.
func (s *synthesized) checkTarget(t *testing.T, name string, rule resource, f Function) {
	t.Helper()
	targets := rule.Properties["Targets"].([]any)
	if len(targets) != 1 {
		t.Fatalf("rule %s: %d targets", name, len(targets))
	}
	target := targets[0].(map[string]any)
	if f.Queued {
		arn := target["Arn"].(map[string]any)["Fn::GetAtt"].([]any)
		if q := s.resources[arn[0].(string)]; q.Type != "AWS::SQS::Queue" || s.queueConsumer(arn[0].(string)) != s.functionID(f.Name) {
			t.Errorf("rule %s targets %v, want %s's queue", name, arn, f.Name)
		}
		return
	}
	if !jsonEqual(target["Arn"], getAtt(s.functionID(f.Name), "Arn")) {
		t.Errorf("rule %s targets %v, want function %s", name, target["Arn"], f.Name)
	}
	if !jsonEqual(target["RetryPolicy"].(map[string]any)["MaximumRetryAttempts"], f.RetryAttempts) {
		t.Errorf("rule %s retry policy %v", name, target["RetryPolicy"])
	}
}

// queueConsumer is the logical ID of the function draining a queue.
func (s *synthesized) queueConsumer(queueID string) string {
	for _, id := range s.ofType("AWS::Lambda::EventSourceMapping") {
		p := s.resources[id].Properties
		if jsonEqual(p["EventSourceArn"], getAtt(queueID, "Arn")) {
			return p["FunctionName"].(map[string]any)["Ref"].(string)
		}
	}
	return ""
}

func (s *synthesized) checkQueues(t *testing.T) {
	for _, id := range s.ofType("AWS::SQS::Queue") {
		p := s.resources[id].Properties
		if p["SqsManagedSseEnabled"] != true || p["MessageRetentionPeriod"] != float64(14*24*3600) {
			t.Errorf("queue %s: encryption %v retention %v", id, p["SqsManagedSseEnabled"], p["MessageRetentionPeriod"])
		}
	}
	for _, id := range s.ofType("AWS::SQS::QueuePolicy") {
		doc := normalize(s.resources[id].Properties["PolicyDocument"])
		if !strings.Contains(fmt.Sprint(doc), "aws:SecureTransport:false") {
			t.Errorf("queue policy %s does not refuse unencrypted transport: %v", id, doc)
		}
	}
	for _, f := range s.functions {
		if !f.Queued {
			continue
		}
		var mapping map[string]any
		for _, id := range s.ofType("AWS::Lambda::EventSourceMapping") {
			p := s.resources[id].Properties
			if jsonEqual(p["FunctionName"], ref(s.functionID(f.Name))) {
				mapping = p
			}
		}
		if mapping == nil || mapping["BatchSize"] != float64(10) || !jsonEqual(mapping["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}) {
			t.Fatalf("%s: queue mapping %v", f.Name, mapping)
		}
		queueID := mapping["EventSourceArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		q := s.resources[queueID].Properties
		redrive := q["RedrivePolicy"].(map[string]any)
		dlqID := redrive["deadLetterTargetArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		if redrive["maxReceiveCount"] != float64(5) || s.resources[dlqID].Type != "AWS::SQS::Queue" {
			t.Errorf("%s: redrive %v", f.Name, redrive)
		}
		if q["VisibilityTimeout"] != 6*f.Timeout.Seconds() {
			t.Errorf("%s: visibility timeout %v, want six times the function's timeout", f.Name, q["VisibilityTimeout"])
		}
	}
}

// checkIAM holds every policy to least privilege: no wildcard action at
// all, and a "*" resource only for actions that have no resource-level
// permissions (PutMetricData only under a namespace condition).
func (s *synthesized) checkIAM(t *testing.T) {
	anyResourceOK := map[string]bool{"dynamodb:ListStreams": true}
	statements := 0
	for _, id := range s.ofType("AWS::IAM::Policy") {
		doc := s.resources[id].Properties["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			statements++
			st := st.(map[string]any)
			actions := stringsOf(st["Action"])
			for _, a := range actions {
				if strings.Contains(a, "*") {
					t.Errorf("policy %s grants the wildcard action %q", id, a)
				}
			}
			if slices.Contains(stringsOf(st["Resource"]), "*") {
				for _, a := range actions {
					if a == "cloudwatch:PutMetricData" && namespaceScoped(st) {
						continue
					}
					if !anyResourceOK[a] {
						t.Errorf("policy %s grants %s on every resource", id, a)
					}
				}
			}
		}
	}
	if statements == 0 {
		t.Fatal("no IAM statements found")
	}
	for _, id := range s.ofType("AWS::IAM::Role") {
		if arns := s.resources[id].Properties["ManagedPolicyArns"]; arns != nil {
			t.Errorf("role %s attaches managed policies %v", id, arns)
		}
	}
}

// namespaceScoped reports whether a statement carries a
// cloudwatch:namespace condition.
func namespaceScoped(st map[string]any) bool {
	cond, _ := st["Condition"].(map[string]any)
	eq, _ := cond["StringEquals"].(map[string]any)
	_, ok := eq["cloudwatch:namespace"]
	return ok
}

func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (s *synthesized) checkOutputs(t *testing.T) {
	url := s.logicalID(s.stack.Functions["api"].Node().FindChild(jsii.String("FunctionUrl")).Node().DefaultChild())
	want := map[string]any{
		"ApiEndpoint":    getAtt(url, "FunctionUrl"),
		"ApiFunctionArn": getAtt(s.functionID("api"), "Arn"),
		"EventBusName":   ref(s.logicalID(s.stack.Bus.Node().DefaultChild())),
		"TableName":      ref(s.logicalID(s.stack.Table.Node().DefaultChild())),
	}
	for name, value := range want {
		out, ok := s.outputs[name].(map[string]any)
		if !ok || !jsonEqual(out["Value"], value) {
			t.Errorf("output %s = %v, want %v", name, out, value)
		}
	}
}

// checkNag requires cdk-nag's AwsSolutions pack to find no unsuppressed
// error or warning, and every suppression to say why.
func (s *synthesized) checkNag(t *testing.T) {
	annotations := assertions.Annotations_FromStack(s.stack.Stack)
	solutions := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, m := range *annotations.FindError(jsii.String("*"), solutions) {
		t.Errorf("cdk-nag error: %s", describe(m))
	}
	for _, m := range *annotations.FindWarning(jsii.String("*"), solutions) {
		t.Errorf("cdk-nag warning: %s", describe(m))
	}
	suppressed := map[string]bool{}
	for id, r := range s.resources {
		nag, ok := r.Metadata["cdk_nag"].(map[string]any)
		if !ok {
			continue
		}
		for _, rule := range nag["rules_to_suppress"].([]any) {
			rule := rule.(map[string]any)
			reason, _ := rule["reason"].(string)
			if len(strings.Fields(reason)) < 8 {
				t.Errorf("%s suppresses %v without a real reason: %q", id, rule["id"], reason)
			}
			suppressed[fmt.Sprint(rule["id"])] = true
		}
	}
	// A new kind of suppression is a design decision: add it here on
	// purpose. A fleet without an alarm email has no topic for its
	// scaling notifications (AS3).
	want := map[string]bool{"AwsSolutions-SQS3": true, "AwsSolutions-IAM5": true}
	if s.config.fleet != nil && s.config.email == "" {
		want["AwsSolutions-AS3"] = true
	}
	if !maps.Equal(suppressed, want) {
		t.Errorf("suppressions %v, want exactly %v", slices.Sorted(maps.Keys(suppressed)), slices.Sorted(maps.Keys(want)))
	}
}

// describe renders a synthesis message (its path and text) as JSON.
func describe(m any) string {
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Sprint(m)
	}
	return string(raw)
}

// assertNoPanic turns a failed CDK assertion (a jsii exception, which
// surfaces as a panic) into a test error.
func assertNoPanic(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("CDK assertion failed: %v", p)
		}
	}()
	f()
}

func TestStackRefusesBadDeclarations(t *testing.T) {
	base := DefaultFunctions()
	tests := map[string]struct {
		fns  []Function
		want string
	}{
		"duplicate":           {append(base, base[0]), "declared twice"},
		"no rule targets it":  {append(base, Function{Name: "orphan", MemoryMB: 128, Timeout: time.Second, Trigger: TriggerEvents}), `no rule or schedule in shared/bus targets "orphan"`},
		"bad name":            {[]Function{{Name: "Api", MemoryMB: 128, Timeout: time.Second, Trigger: TriggerURL}}, "lower-case"},
		"too little memory":   {[]Function{{Name: "api", MemoryMB: 64, Timeout: time.Second, Trigger: TriggerURL}}, "memory 64 MB"},
		"too long":            {[]Function{{Name: "api", MemoryMB: 128, Timeout: time.Hour, Trigger: TriggerURL}}, "timeout 1h0m0s"},
		"no trigger":          {[]Function{{Name: "api", MemoryMB: 128, Timeout: time.Second}}, "no trigger"},
		"queued without rule": {[]Function{{Name: "api", MemoryMB: 128, Timeout: time.Second, Trigger: TriggerURL, Queued: true}}, "only TriggerEvents"},
	}
	t.Run("not built", func(t *testing.T) {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		_, err := NewBerthStack(app, "Bad", StackProps{Functions: base, AssetDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "api/bootstrap is not built; run `make build`") {
			t.Errorf("error %v, want one saying to build the functions", err)
		}
	})
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
			_, err := NewBerthStack(app, "Bad", StackProps{Functions: tt.fns, AssetDir: buildAssets(t, t.TempDir(), tt.fns)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestEventPattern(t *testing.T) {
	for _, r := range bus.Rules() {
		p, err := eventPattern(r.Pattern)
		if err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		if p.Source == nil || len(*p.Source) == 0 {
			t.Errorf("%s: no source carried over", r.Name)
		}
	}
	for _, bad := range []string{`[]`, `{"detail":[1]}`, `{"source":"berth"}`, `{"$or":[{"source":["a"]}]}`} {
		if _, err := eventPattern(json.RawMessage(bad)); err == nil {
			t.Errorf("pattern %s: no error", bad)
		}
	}
	aws, err := fromAWSServices(json.RawMessage(`{"source":["aws.cloudwatch","aws.ec2"]}`))
	if err != nil || !aws {
		t.Errorf("AWS sources: %v %v", aws, err)
	}
	if mixed, _ := fromAWSServices(json.RawMessage(`{"source":["aws.cloudwatch","berth"]}`)); mixed {
		t.Error("a pattern matching Berth's events belongs on Berth's bus")
	}
	if none, _ := fromAWSServices(json.RawMessage(`{"detail-type":["x"]}`)); none {
		t.Error("a pattern without source is not AWS-only")
	}
	if got := constructID("berth-reconciler-task-state-change"); got != "ReconcilerTaskStateChange" {
		t.Errorf("constructID = %s", got)
	}
}
