package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/berth-run/berth/agent"
)

// writeAgentBinary writes the smallest file debug/elf reads as an ELF
// executable for machine: the tests ship it as the agent binary instead
// of cross-compiling ./cmd/berth.
func writeAgentBinary(t *testing.T, dir string, machine elf.Machine) string {
	t.Helper()
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Ehsize: 64, Phentsize: 56, Shentsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	b.WriteString("berth agent for " + machine.String() + "\n")
	path := filepath.Join(dir, "berth-linux-"+machine.String())
	if err := os.WriteFile(path, b.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// render writes a CloudFormation value as text, references as ${Id} and
// attributes as ${Id.Attr}, so a test can read user data and ARNs.
func render(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		switch {
		case v["Ref"] != nil:
			return "${" + v["Ref"].(string) + "}"
		case v["Fn::GetAtt"] != nil:
			parts := v["Fn::GetAtt"].([]any)
			return "${" + parts[0].(string) + "." + parts[1].(string) + "}"
		case v["Fn::Join"] != nil:
			args := v["Fn::Join"].([]any)
			var parts []string
			for _, p := range args[1].([]any) {
				parts = append(parts, render(p))
			}
			return strings.Join(parts, args[0].(string))
		case v["Fn::Base64"] != nil:
			return render(v["Fn::Base64"])
		case v["Fn::Sub"] != nil:
			return render(v["Fn::Sub"])
		}
	}
	return fmt.Sprint(normalize(v))
}

// policyStatements are the statements of the policies attached to a role.
func (s *synthesized) policyStatements(roleID string) []any {
	var statements []any
	for _, id := range s.ofType("AWS::IAM::Policy") {
		p := s.resources[id].Properties
		if slices.ContainsFunc(p["Roles"].([]any), func(r any) bool { return jsonEqual(r, ref(roleID)) }) {
			statements = append(statements, p["PolicyDocument"].(map[string]any)["Statement"].([]any)...)
		}
	}
	return statements
}

// checkAgentRole: the role EC2 assumes may call the api URL, exactly, and
// with a fleet read the agent binary's object; its instance profile and
// outputs exist in every configuration.
func (s *synthesized) checkAgentRole(t *testing.T) {
	roleID := s.logicalID(s.stack.AgentRole.Node().DefaultChild())
	role := s.resources[roleID]
	trust := []any{map[string]any{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "ec2.amazonaws.com"}}}
	if got := role.Properties["AssumeRolePolicyDocument"].(map[string]any)["Statement"]; !jsonEqual(got, trust) {
		t.Errorf("agent role trust %v, want EC2 only", got)
	}
	if role.Properties["ManagedPolicyArns"] != nil {
		t.Errorf("agent role attaches managed policies %v", role.Properties["ManagedPolicyArns"])
	}
	api := getAtt(s.functionID(apiFunction), "Arn")
	want := []any{
		map[string]any{"Action": "lambda:InvokeFunctionUrl", "Effect": "Allow", "Resource": api,
			"Condition": map[string]any{"StringEquals": map[string]any{"lambda:FunctionUrlAuthType": "AWS_IAM"}}},
		map[string]any{"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": api,
			"Condition": map[string]any{"Bool": map[string]any{"lambda:InvokedViaFunctionUrl": "true"}}},
	}
	got := s.policyStatements(roleID)
	if s.config.fleet != nil {
		if len(got) != 3 {
			t.Fatalf("agent role statements %v, want the two URL grants and the agent binary", got)
		}
		s.checkAgentBinaryGrant(t, got[2].(map[string]any))
		got = got[:2]
	}
	if !jsonEqual(got, want) {
		t.Errorf("agent role statements\n%v\nwant\n%v", normalize(got), normalize(want))
	}

	profileID, profile := s.only(t, "AWS::IAM::InstanceProfile")
	if !jsonEqual(profile.Properties["Roles"], []any{ref(roleID)}) {
		t.Errorf("instance profile roles %v, want the agent role", profile.Properties["Roles"])
	}
	s.checkOutput(t, "AgentRoleArn", getAtt(roleID, "Arn"))
	s.checkOutput(t, "AgentInstanceProfileName", ref(profileID))
}

// checkAgentBinaryGrant: the role may get the agent binary's object, the
// one the user data downloads, and nothing else of the asset bucket.
func (s *synthesized) checkAgentBinaryGrant(t *testing.T, st map[string]any) {
	t.Helper()
	if st["Action"] != "s3:GetObject" || st["Effect"] != "Allow" || st["Condition"] != nil {
		t.Errorf("agent binary grant %v, want s3:GetObject alone", st)
	}
	object := render(st["Resource"])
	bucket, key, _ := strings.Cut(strings.TrimPrefix(object, "arn:${AWS::Partition}:s3:::"), "/")
	if !strings.HasPrefix(object, "arn:${AWS::Partition}:s3:::cdk-") || key == "" || strings.Contains(object, "*") {
		t.Fatalf("agent binary grant on %q, want one object of the asset bucket", object)
	}
	if want := fmt.Sprintf("aws s3 cp --region ${AWS::Region} s3://%s/%s %s", bucket, key, agentPath); !slices.Contains(s.userData(t), want) {
		t.Errorf("user data does not download the granted object: want the line %q", want)
	}
	// A file asset's key is its hash and the staged file's "extension",
	// which for a file named asset.<hash> is the hash again.
	hash, _, _ := strings.Cut(key, ".")
	staged, err := os.ReadFile(filepath.Join(s.outdir, "asset."+hash))
	if err != nil || !bytes.Contains(staged, []byte("berth agent for EM_AARCH64")) {
		t.Errorf("the granted object %s is not the agent binary: %q %v", key, staged, err)
	}
}

// userData is the fleet's user data, one line per element.
func (s *synthesized) userData(t *testing.T) []string {
	t.Helper()
	_, lt := s.only(t, "AWS::EC2::LaunchTemplate")
	return strings.Split(render(lt.Properties["LaunchTemplateData"].(map[string]any)["UserData"]), "\n")
}

func (s *synthesized) checkOutput(t *testing.T, name string, value any) {
	t.Helper()
	out, ok := s.outputs[name].(map[string]any)
	if !ok || !jsonEqual(out["Value"], value) {
		t.Errorf("output %s = %v, want %v", name, out, value)
	}
}

// fleetTypes are the resource types only a fleet brings.
var fleetTypes = []string{
	"AWS::AutoScaling::AutoScalingGroup", "AWS::EC2::LaunchTemplate", "AWS::EC2::VPC", "AWS::EC2::Subnet",
	"AWS::EC2::InternetGateway", "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::RouteTable", "AWS::EC2::Route",
	"AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::SecurityGroup", "AWS::EC2::FlowLog",
}

func (s *synthesized) checkFleet(t *testing.T) {
	if s.config.fleet == nil {
		for _, typ := range fleetTypes {
			if ids := s.ofType(typ); len(ids) > 0 {
				t.Errorf("no fleet asked for, yet %s %v", typ, ids)
			}
		}
		for _, o := range []string{"FleetAutoScalingGroupName", "FleetSecurityGroupId", "FleetVpcId"} {
			if s.outputs[o] != nil {
				t.Errorf("no fleet asked for, yet output %s", o)
			}
		}
		if tmpl := fmt.Sprint(normalize(s.template.ToJSON())); strings.Contains(tmpl, "Parameters") && strings.Contains(tmpl, "ami-amazon-linux") {
			t.Error("no fleet asked for, yet an AMI parameter")
		}
		if s.stack.FleetGroup != nil {
			t.Error("no fleet asked for, yet BerthStack.FleetGroup")
		}
		return
	}
	fleet := s.config.fleet.withDefaults()
	for _, typ := range fleetTypes {
		if len(s.ofType(typ)) == 0 {
			t.Errorf("fleet without a %s", typ)
		}
	}
	for _, typ := range []string{"AWS::EC2::NatGateway", "AWS::EC2::EIP", "AWS::EC2::VPCEndpoint"} {
		if ids := s.ofType(typ); len(ids) > 0 {
			t.Errorf("the fleet's network has %s %v: it should cost nothing while idle", typ, ids)
		}
	}
	t.Run("network", s.checkFleetNetwork)
	t.Run("launch template", func(t *testing.T) { s.checkLaunchTemplate(t, fleet) })
	t.Run("user data", func(t *testing.T) { s.checkUserData(t, fleet) })
	t.Run("group", func(t *testing.T) { s.checkGroup(t, fleet) })
}

func (s *synthesized) checkFleetNetwork(t *testing.T) {
	vpcID, vpc := s.only(t, "AWS::EC2::VPC")
	if vpc.Properties["CidrBlock"] != fleetCIDR || vpc.Properties["EnableDnsHostnames"] != true || vpc.Properties["EnableDnsSupport"] != true {
		t.Errorf("VPC %v", vpc.Properties)
	}
	subnets := s.ofType("AWS::EC2::Subnet")
	if len(subnets) != fleetZones {
		t.Fatalf("subnets %v, want %d", subnets, fleetZones)
	}
	var cidrs []string
	for i, id := range subnets {
		p := s.resources[id].Properties
		zone := map[string]any{"Fn::Select": []any{i, map[string]any{"Fn::GetAZs": ""}}}
		if !jsonEqual(p["VpcId"], ref(vpcID)) || p["MapPublicIpOnLaunch"] != true || !jsonEqual(p["AvailabilityZone"], zone) {
			t.Errorf("subnet %s: %v; want a public subnet of the VPC in zone %d of Fn::GetAZs", id, p, i)
		}
		cidrs = append(cidrs, p["CidrBlock"].(string))
	}
	if !slices.Equal(cidrs, []string{"10.42.0.0/20", "10.42.16.0/20"}) {
		t.Errorf("subnet ranges %v", cidrs)
	}
	_, route := s.only(t, "AWS::EC2::Route")
	gatewayID, _ := s.only(t, "AWS::EC2::InternetGateway")
	if route.Properties["DestinationCidrBlock"] != "0.0.0.0/0" || !jsonEqual(route.Properties["GatewayId"], ref(gatewayID)) {
		t.Errorf("default route %v, want the internet gateway", route.Properties)
	}
	for _, id := range s.ofType("AWS::EC2::SubnetRouteTableAssociation") {
		if !jsonEqual(s.resources[id].Properties["RouteTableId"], route.Properties["RouteTableId"]) {
			t.Errorf("subnet association %s uses another route table", id)
		}
	}
	_, flow := s.only(t, "AWS::EC2::FlowLog")
	p := flow.Properties
	if p["ResourceType"] != "VPC" || !jsonEqual(p["ResourceId"], ref(vpcID)) || p["TrafficType"] != "ALL" || p["LogDestinationType"] != "cloud-watch-logs" {
		t.Errorf("flow log %v, want every flow of the VPC to CloudWatch Logs", p)
	}
	sgID, sg := s.only(t, "AWS::EC2::SecurityGroup")
	if sg.Properties["SecurityGroupIngress"] != nil || len(s.ofType("AWS::EC2::SecurityGroupIngress")) > 0 {
		t.Errorf("security group %s admits inbound traffic: %v", sgID, sg.Properties)
	}
	s.checkOutput(t, "FleetVpcId", ref(vpcID))
	s.checkOutput(t, "FleetSecurityGroupId", getAtt(sgID, "GroupId"))
}

// al2023Arm64 matches the public SSM parameters naming the latest Amazon
// Linux 2023 AMI for arm64 (of a kernel line).
var al2023Arm64 = regexp.MustCompile(`^/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-[0-9a-z.]+-arm64$`)

func (s *synthesized) checkLaunchTemplate(t *testing.T, fleet FleetProps) {
	_, lt := s.only(t, "AWS::EC2::LaunchTemplate")
	data := lt.Properties["LaunchTemplateData"].(map[string]any)
	meta := map[string]any{"HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1, "HttpTokens": "required"}
	if got := data["MetadataOptions"]; !jsonEqual(got, meta) {
		t.Errorf("metadata options %v, want IMDSv2 required within the host (%v)", got, meta)
	}
	if data["InstanceType"] != fleet.InstanceType {
		t.Errorf("instance type %v, want %s", data["InstanceType"], fleet.InstanceType)
	}
	var params struct {
		Parameters map[string]struct{ Type, Default string }
	}
	raw := normalize(s.template.ToJSON())
	if err := remarshal(raw, &params); err != nil {
		t.Fatal(err)
	}
	image, _ := data["ImageId"].(map[string]any)["Ref"].(string)
	if p := params.Parameters[image]; p.Type != "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>" || !al2023Arm64.MatchString(p.Default) {
		t.Errorf("image %v from parameter %+v, want the SSM parameter %s resolved at deploy time", data["ImageId"], p, al2023Arm64)
	}
	disks := []any{map[string]any{"DeviceName": "/dev/xvda", "Ebs": map[string]any{
		"DeleteOnTermination": true, "Encrypted": true, "VolumeSize": fleetVolumeGiB, "VolumeType": "gp3"}}}
	if !jsonEqual(data["BlockDeviceMappings"], disks) {
		t.Errorf("block devices %v, want %v", data["BlockDeviceMappings"], disks)
	}
	profileID, _ := s.only(t, "AWS::IAM::InstanceProfile")
	if !jsonEqual(data["IamInstanceProfile"], map[string]any{"Arn": getAtt(profileID, "Arn")}) {
		t.Errorf("instance profile %v, want the agent's", data["IamInstanceProfile"])
	}
	sgID, _ := s.only(t, "AWS::EC2::SecurityGroup")
	if !jsonEqual(data["SecurityGroupIds"], []any{getAtt(sgID, "GroupId")}) {
		t.Errorf("security groups %v", data["SecurityGroupIds"])
	}
}

func (s *synthesized) checkUserData(t *testing.T, fleet FleetProps) {
	lines := s.userData(t)
	urlID := s.logicalID(s.stack.Functions[apiFunction].Node().FindChild(jsii.String("FunctionUrl")).Node().DefaultChild())
	config := []string{
		"ECS_CLUSTER=" + fleet.Cluster,
		"BERTH_ENDPOINT=${" + urlID + ".FunctionUrl}",
		"BERTH_DRIVER=docker",
		"AWS_REGION=${AWS::Region}",
	}
	// Each step in order: Docker, the config, the binary, the unit.
	want := append(append([]string{
		"#!/bin/bash",
		"set -euxo pipefail",
		"dnf install -y docker",
		"systemctl enable --now docker",
		"cat > /etc/ecs/ecs.config <<'EOF'",
	}, config...),
		"EOF",
		"chmod 0755 "+agentPath,
		"[Service]",
		"EnvironmentFile=/etc/ecs/ecs.config",
		"ExecStart="+agentPath+" agent",
		"Restart=always",
		"systemctl enable --now "+agentUnit,
	)
	at := 0
	for _, w := range want {
		i := slices.Index(lines[at:], w)
		if i < 0 {
			t.Fatalf("user data lacks %q after line %d:\n%s", w, at, strings.Join(lines, "\n"))
		}
		at += i + 1
	}
	if i := slices.Index(lines, "cat > /etc/ecs/ecs.config <<'EOF'"); !slices.Equal(lines[i+1:i+1+len(config)+1], append(config, "EOF")) {
		t.Errorf("ecs.config holds %q, want exactly %q", lines[i+1:i+1+len(config)+1], config)
	}
}

func (s *synthesized) checkGroup(t *testing.T, fleet FleetProps) {
	groupID, group := s.only(t, "AWS::AutoScaling::AutoScalingGroup")
	p := group.Properties
	size := fmt.Sprint(fleet.Size)
	if p["MinSize"] != size || p["MaxSize"] != size {
		t.Errorf("group size %v-%v, want %s", p["MinSize"], p["MaxSize"], size)
	}
	ltID, _ := s.only(t, "AWS::EC2::LaunchTemplate")
	wantLT := map[string]any{"LaunchTemplateId": ref(ltID), "Version": getAtt(ltID, "LatestVersionNumber")}
	if !jsonEqual(p["LaunchTemplate"], wantLT) {
		t.Errorf("group launch template %v, want the latest version of %s", p["LaunchTemplate"], ltID)
	}
	var subnets []any
	for _, id := range s.ofType("AWS::EC2::Subnet") {
		subnets = append(subnets, ref(id))
	}
	if !jsonEqual(p["VPCZoneIdentifier"], subnets) {
		t.Errorf("group subnets %v, want %v", p["VPCZoneIdentifier"], subnets)
	}
	var policy struct {
		UpdatePolicy map[string]map[string]any
	}
	if err := remarshal(normalize(s.template.ToJSON()).(map[string]any)["Resources"].(map[string]any)[groupID], &policy); err != nil {
		t.Fatal(err)
	}
	rolling := policy.UpdatePolicy["AutoScalingRollingUpdate"]
	if rolling == nil || rolling["MaxBatchSize"] != float64(1) || rolling["MinInstancesInService"] != float64(fleet.Size-1) {
		t.Errorf("update policy %v, want hosts replaced one at a time", policy.UpdatePolicy)
	}
	tags := normalize(p["Tags"])
	if !jsonEqual(tags, []any{map[string]any{"Key": "Name", "PropagateAtLaunch": true, "Value": "berth-agent"}}) {
		t.Errorf("group tags %v", tags)
	}
	notifications := normalize(p["NotificationConfigurations"])
	if s.config.email == "" {
		if notifications != nil {
			t.Errorf("notifications %v without a topic", notifications)
		}
	} else {
		topicID, _ := s.only(t, "AWS::SNS::Topic")
		want := []any{map[string]any{"TopicARN": ref(topicID), "NotificationTypes": []any{
			"autoscaling:EC2_INSTANCE_LAUNCH", "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
			"autoscaling:EC2_INSTANCE_TERMINATE", "autoscaling:EC2_INSTANCE_TERMINATE_ERROR"}}}
		if !jsonEqual(notifications, want) {
			t.Errorf("notifications %v, want every scaling event to the topic", notifications)
		}
	}
	s.checkOutput(t, "FleetAutoScalingGroupName", ref(groupID))
}

// remarshal decodes a JSON-shaped value into out.
func remarshal(v any, out any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

func TestArm64InstanceTypes(t *testing.T) {
	for _, typ := range []string{"t4g.small", "m7g.medium", "c6gn.xlarge", "m7gd.large", "r8g.2xlarge", "g5g.xlarge", "a1.medium", "im4gn.large", "x2gd.metal"} {
		if !isArm64InstanceType(typ) {
			t.Errorf("%s is arm64", typ)
		}
	}
	for _, typ := range []string{"t3.small", "m7i.large", "c5n.xlarge", "g5.xlarge", "m7a.medium", "t4g", "T4G.small", ""} {
		if isArm64InstanceType(typ) {
			t.Errorf("%s is not an arm64 instance type", typ)
		}
	}
}

func TestAgentInstallScript(t *testing.T) {
	lines := agentInstallScript(agentSettings{Cluster: "web", Endpoint: "https://x.lambda-url.eu-west-1.on.aws/", Region: "eu-west-1", Bucket: "b", Key: "k"})
	script := strings.Join(lines, "\n")
	for _, want := range []string{
		"ECS_CLUSTER=web\nBERTH_ENDPOINT=https://x.lambda-url.eu-west-1.on.aws/\nBERTH_DRIVER=docker\nAWS_REGION=eu-west-1\nEOF",
		"aws s3 cp --region eu-west-1 s3://b/k /usr/local/bin/berth\nchmod 0755 /usr/local/bin/berth",
		"Requires=docker.service",
		"Restart=always",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	// Every heredoc is quoted (no expansion on the host) and closed.
	opened := regexp.MustCompile(`<<'EOF'$`)
	open := 0
	for _, l := range lines {
		switch {
		case opened.MatchString(l):
			open++
		case l == "EOF":
			open--
		}
		if open < 0 || open > 1 {
			t.Fatalf("unbalanced heredocs at %q", l)
		}
	}
	if open != 0 {
		t.Error("a heredoc is left open")
	}
}

// TestAgentConfigLinesAreTheAgentsSettings: the /etc/ecs/ecs.config the
// hosts get is read by the agent's own parser into the settings meant.
func TestAgentConfigLinesAreTheAgentsSettings(t *testing.T) {
	const endpoint = "https://q7xk3mz2hv5rjw4ty6bnd8pfac0egl1s.lambda-url.eu-west-1.on.aws/"
	lines := agentConfigLines(agentSettings{Cluster: "web", Endpoint: endpoint, Region: "eu-west-1"})
	vars, err := agent.ParseConfigFile(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	if err != nil {
		t.Fatalf("ParseConfigFile: %v", err)
	}
	cfg, err := agent.ParseConfig(vars)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if cfg.Cluster != "web" || cfg.Endpoint != endpoint || cfg.Driver != agent.DriverDocker {
		t.Errorf("config = cluster %q, endpoint %q, driver %q; want web, the Function URL, docker", cfg.Cluster, cfg.Endpoint, cfg.Driver)
	}
	if vars["AWS_REGION"] != "eu-west-1" {
		t.Errorf("AWS_REGION = %q; want eu-west-1, for the SDK on the host", vars["AWS_REGION"])
	}
}

// TestFleetRefusesBadSettings: a fleet the hosts could not run is refused
// before any resource is made, naming the setting.
func TestFleetRefusesBadSettings(t *testing.T) {
	fns := DefaultFunctions()
	dir := t.TempDir()
	arm := writeAgentBinary(t, dir, elf.EM_AARCH64)
	x86 := writeAgentBinary(t, dir, elf.EM_X86_64)
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a binary"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		fleet FleetProps
		email string
		want  string
	}{
		"x86 instance type": {FleetProps{InstanceType: "t3.small", AgentBinary: arm}, "", `instance type "t3.small": want an arm64`},
		"malformed type":    {FleetProps{InstanceType: "small", AgentBinary: arm}, "", `instance type "small"`},
		"negative size":     {FleetProps{Size: -1, AgentBinary: arm}, "", "fleet size -1: want 1-100"},
		"huge size":         {FleetProps{Size: 101, AgentBinary: arm}, "", "fleet size 101"},
		"cluster name":      {FleetProps{Cluster: "web servers", AgentBinary: arm}, "", `fleet cluster "web servers"`},
		"cluster ARN":       {FleetProps{Cluster: "arn:aws:ecs:us-east-1:111122223333:cluster/web", AgentBinary: arm}, "", "want a cluster name"},
		"no binary":         {FleetProps{AgentBinary: filepath.Join(dir, "missing")}, "", "run `make build` first"},
		"not a binary":      {FleetProps{AgentBinary: text}, "", "run `make build` first"},
		"x86 binary":        {FleetProps{AgentBinary: x86}, "", "not a linux/arm64 executable"},
		"bad email":         {FleetProps{AgentBinary: arm}, "ops at example.com", `alarm email "ops at example.com"`},
		"named email":       {FleetProps{AgentBinary: arm}, "Ops <ops@example.com>", "want one address"},
	}
	assets := buildAssets(t, dir, fns)
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
			fleet := tt.fleet
			_, err := NewBerthStack(app, "Bad", StackProps{Functions: fns, AssetDir: assets, Fleet: &fleet, AlarmEmail: tt.email})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	t.Run("no api function", func(t *testing.T) {
		var others []Function
		for _, f := range fns {
			if f.Name != apiFunction {
				others = append(others, f)
			}
		}
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		_, err := NewBerthStack(app, "Bad", StackProps{Functions: others, AssetDir: assets})
		if err == nil || !strings.Contains(err.Error(), "the agent role needs the api function") {
			t.Errorf("error %v, want one saying the agent role needs the api function", err)
		}
	})
}
