package api_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/berth-run/berth/internal/testenv"
	"github.com/berth-run/berth/shared/local"
)

func newClient(t *testing.T) (*ecs.Client, *local.Plane) {
	t.Helper()
	p := testenv.Plane(t, local.Config{})
	return testenv.ECS(p.Endpoint()), p
}

// must checks a call's error: must(c.Action(ctx, in))(t).
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantError[E error](t *testing.T, err error) E {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("error = %v (%T), want %T", err, err, target)
	}
	return target
}

func TestSDKClusters(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	def := must(c.CreateCluster(ctx, &ecs.CreateClusterInput{}))(t)
	if aws.ToString(def.Cluster.ClusterName) != "default" {
		t.Errorf("default cluster name = %q", aws.ToString(def.Cluster.ClusterName))
	}
	web := must(c.CreateCluster(ctx, &ecs.CreateClusterInput{
		ClusterName: aws.String("web"),
		Tags:        []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
		Settings:    []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("enabled")}},
	}))(t)
	if got := aws.ToString(web.Cluster.ClusterArn); got != "arn:aws:ecs:us-east-1:000000000000:cluster/web" {
		t.Errorf("clusterArn = %s", got)
	}
	again := must(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("web")}))(t)
	if aws.ToString(again.Cluster.ClusterArn) != aws.ToString(web.Cluster.ClusterArn) {
		t.Error("creating an existing cluster should return it")
	}
	for _, n := range []string{"a1", "a2", "a3"} {
		must(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(n)}))(t)
	}

	desc := must(c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"web", "nope"}, Include: []types.ClusterField{types.ClusterFieldTags, types.ClusterFieldSettings}}))(t)
	if len(desc.Clusters) != 1 || len(desc.Failures) != 1 || aws.ToString(desc.Failures[0].Reason) != "MISSING" ||
		aws.ToString(desc.Failures[0].Arn) != "arn:aws:ecs:us-east-1:000000000000:cluster/nope" {
		t.Fatalf("describe = %+v / %+v", desc.Clusters, desc.Failures)
	}
	if cl := desc.Clusters[0]; len(cl.Tags) != 1 || aws.ToString(cl.Tags[0].Key) != "team" || len(cl.Settings) != 1 || aws.ToString(cl.Settings[0].Value) != "enabled" {
		t.Errorf("include TAGS, SETTINGS: %+v", cl)
	}

	var arns []string
	p := ecs.NewListClustersPaginator(c, &ecs.ListClustersInput{MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page := must(p.NextPage(ctx))(t)
		pages++
		arns = append(arns, page.ClusterArns...)
	}
	if len(arns) != 5 || pages != 3 || !slices.IsSorted(arns) {
		t.Errorf("listed %d clusters in %d pages: %v", len(arns), pages, arns)
	}

	upd := must(c.UpdateClusterSettings(ctx, &ecs.UpdateClusterSettingsInput{Cluster: aws.String("web"),
		Settings: []types.ClusterSetting{{Name: types.ClusterSettingNameContainerInsights, Value: aws.String("disabled")}}}))(t)
	if aws.ToString(upd.Cluster.Settings[0].Value) != "disabled" {
		t.Errorf("settings after update = %+v", upd.Cluster.Settings)
	}
	_, err := c.UpdateClusterSettings(ctx, &ecs.UpdateClusterSettingsInput{Cluster: aws.String("web"),
		Settings: []types.ClusterSetting{{Name: "fastMode", Value: aws.String("on")}}})
	wantError[*types.InvalidParameterException](t, err)

	del := must(c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("a3")}))(t)
	if aws.ToString(del.Cluster.Status) != "INACTIVE" {
		t.Errorf("deleted status = %s", aws.ToString(del.Cluster.Status))
	}
	_, err = c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("a3")})
	wantError[*types.ClusterNotFoundException](t, err)
	gone := must(c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"a3"}}))(t)
	if len(gone.Clusters) != 1 || aws.ToString(gone.Clusters[0].Status) != "INACTIVE" {
		t.Errorf("a deleted cluster stays describable as INACTIVE: %+v", gone)
	}
}

func fullTaskDefinition() *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family:      aws.String("web"),
		NetworkMode: types.NetworkModeBridge,
		Cpu:         aws.String("1 vCPU"),
		Memory:      aws.String("1GB"),
		TaskRoleArn: aws.String("arn:aws:iam::000000000000:role/app"),
		Tags:        []types.Tag{{Key: aws.String("app"), Value: aws.String("web")}},
		PlacementConstraints: []types.TaskDefinitionPlacementConstraint{
			{Type: types.TaskDefinitionPlacementConstraintTypeMemberOf, Expression: aws.String("attribute:ecs.os-type == linux")},
		},
		Volumes: []types.Volume{{Name: aws.String("scratch"), Host: &types.HostVolumeProperties{SourcePath: aws.String("/tmp")}}},
		ContainerDefinitions: []types.ContainerDefinition{
			{
				Name:              aws.String("app"),
				Image:             aws.String("berth-testapp:latest"),
				Cpu:               512,
				Memory:            aws.Int32(512),
				MemoryReservation: aws.Int32(256),
				Essential:         aws.Bool(true),
				EntryPoint:        []string{"/testapp"},
				Command:           []string{"serve"},
				PortMappings: []types.PortMapping{
					{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0), Protocol: types.TransportProtocolTcp, Name: aws.String("http"), AppProtocol: types.ApplicationProtocolHttp},
					{ContainerPort: aws.Int32(53), HostPort: aws.Int32(5353), Protocol: types.TransportProtocolUdp},
				},
				Environment:      []types.KeyValuePair{{Name: aws.String("MODE"), Value: aws.String("test")}},
				Secrets:          []types.Secret{{Name: aws.String("TOKEN"), ValueFrom: aws.String("arn:aws:ssm:us-east-1:000000000000:parameter/token")}},
				LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverJsonFile, Options: map[string]string{"max-size": "10m"}},
				HealthCheck:      &types.HealthCheck{Command: []string{"CMD", "/testapp", "check"}, Interval: aws.Int32(5), Timeout: aws.Int32(2), Retries: aws.Int32(2), StartPeriod: aws.Int32(1)},
				DependsOn:        []types.ContainerDependency{{ContainerName: aws.String("init"), Condition: types.ContainerConditionSuccess}},
				StopTimeout:      aws.Int32(10),
				StartTimeout:     aws.Int32(30),
				DockerLabels:     map[string]string{"tier": "front"},
				Ulimits:          []types.Ulimit{{Name: types.UlimitNameNofile, SoftLimit: 1024, HardLimit: 4096}},
				ExtraHosts:       []types.HostEntry{{Hostname: aws.String("db"), IpAddress: aws.String("10.0.0.5")}},
				MountPoints:      []types.MountPoint{{SourceVolume: aws.String("scratch"), ContainerPath: aws.String("/scratch")}},
				LinuxParameters:  &types.LinuxParameters{InitProcessEnabled: aws.Bool(true)},
				User:             aws.String("1000"),
				WorkingDirectory: aws.String("/"),
				ResourceRequirements: []types.ResourceRequirement{
					{Type: types.ResourceTypeGpu, Value: aws.String("1")},
				},
			},
			{
				Name:      aws.String("init"),
				Image:     aws.String("berth-testapp:latest"),
				Memory:    aws.Int32(32),
				Essential: aws.Bool(false),
				Command:   []string{"--exit-after", "0s"},
			},
		},
	}
}

func TestSDKTaskDefinitionsRoundTrip(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	in := fullTaskDefinition()
	out := must(c.RegisterTaskDefinition(ctx, in))(t)
	td := out.TaskDefinition
	if aws.ToString(td.TaskDefinitionArn) != "arn:aws:ecs:us-east-1:000000000000:task-definition/web:1" || td.Revision != 1 || td.Status != types.TaskDefinitionStatusActive {
		t.Fatalf("registered %s rev %d status %s", aws.ToString(td.TaskDefinitionArn), td.Revision, td.Status)
	}
	if aws.ToString(td.Cpu) != "1024" || aws.ToString(td.Memory) != "1024" || td.RegisteredAt == nil {
		t.Errorf("cpu %s memory %s registeredAt %v", aws.ToString(td.Cpu), aws.ToString(td.Memory), td.RegisteredAt)
	}
	app := td.ContainerDefinitions[0]
	checks := map[string]bool{
		"cpu":                  app.Cpu == 512,
		"memory":               aws.ToInt32(app.Memory) == 512 && aws.ToInt32(app.MemoryReservation) == 256,
		"entryPoint":           slices.Equal(app.EntryPoint, []string{"/testapp"}) && slices.Equal(app.Command, []string{"serve"}),
		"portMappings":         len(app.PortMappings) == 2 && aws.ToInt32(app.PortMappings[0].HostPort) == 0 && app.PortMappings[1].Protocol == types.TransportProtocolUdp && aws.ToString(app.PortMappings[0].Name) == "http" && app.PortMappings[0].AppProtocol == types.ApplicationProtocolHttp,
		"environment":          len(app.Environment) == 1 && aws.ToString(app.Environment[0].Value) == "test",
		"secrets":              len(app.Secrets) == 1 && aws.ToString(app.Secrets[0].ValueFrom) != "",
		"logConfiguration":     app.LogConfiguration != nil && app.LogConfiguration.LogDriver == types.LogDriverJsonFile && app.LogConfiguration.Options["max-size"] == "10m",
		"healthCheck":          app.HealthCheck != nil && aws.ToInt32(app.HealthCheck.Interval) == 5 && aws.ToInt32(app.HealthCheck.Retries) == 2 && aws.ToInt32(app.HealthCheck.StartPeriod) == 1,
		"dependsOn":            len(app.DependsOn) == 1 && app.DependsOn[0].Condition == types.ContainerConditionSuccess,
		"timeouts":             aws.ToInt32(app.StopTimeout) == 10 && aws.ToInt32(app.StartTimeout) == 30,
		"dockerLabels":         app.DockerLabels["tier"] == "front",
		"ulimits":              len(app.Ulimits) == 1 && app.Ulimits[0].HardLimit == 4096,
		"extraHosts":           len(app.ExtraHosts) == 1 && aws.ToString(app.ExtraHosts[0].IpAddress) == "10.0.0.5",
		"mountPoints":          len(app.MountPoints) == 1 && aws.ToString(app.MountPoints[0].ContainerPath) == "/scratch",
		"linuxParameters":      app.LinuxParameters != nil && aws.ToBool(app.LinuxParameters.InitProcessEnabled),
		"user":                 aws.ToString(app.User) == "1000" && aws.ToString(app.WorkingDirectory) == "/",
		"resourceRequirements": len(app.ResourceRequirements) == 1 && app.ResourceRequirements[0].Type == types.ResourceTypeGpu,
		"volumes":              len(td.Volumes) == 1 && td.Volumes[0].Host != nil && aws.ToString(td.Volumes[0].Host.SourcePath) == "/tmp",
		"placementConstraints": len(td.PlacementConstraints) == 1 && aws.ToString(td.PlacementConstraints[0].Expression) == "attribute:ecs.os-type == linux",
		"essential default":    aws.ToBool(td.ContainerDefinitions[1].Essential) == false,
		"tags":                 len(out.Tags) == 1 && aws.ToString(out.Tags[0].Value) == "web",
	}
	for field, ok := range checks {
		if !ok {
			t.Errorf("%s did not survive the round trip", field)
		}
	}

	second := must(c.RegisterTaskDefinition(ctx, in))(t)
	if second.TaskDefinition.Revision != 2 {
		t.Errorf("second revision = %d", second.TaskDefinition.Revision)
	}
	for ref, rev := range map[string]int32{"web": 2, "web:1": 1, aws.ToString(td.TaskDefinitionArn): 1} {
		got := must(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(ref), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}}))(t)
		if got.TaskDefinition.Revision != rev || len(got.Tags) != 1 {
			t.Errorf("describe %s = revision %d, tags %v", ref, got.TaskDefinition.Revision, got.Tags)
		}
	}
	_, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("web:9")})
	wantError[*types.ClientException](t, err)

	must(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("api"), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("a"), Image: aws.String("x"), Memory: aws.Int32(64)}}}))(t)
	list := must(c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Sort: types.SortOrderDesc}))(t)
	want := []string{"task-definition/web:2", "task-definition/web:1", "task-definition/api:1"}
	if len(list.TaskDefinitionArns) != 3 {
		t.Fatalf("list = %v", list.TaskDefinitionArns)
	}
	for i, w := range want {
		if got := list.TaskDefinitionArns[i]; got != "arn:aws:ecs:us-east-1:000000000000:"+w {
			t.Errorf("list[%d] = %s, want %s", i, got, w)
		}
	}
	byFamily := must(c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("web"), MaxResults: aws.Int32(1)}))(t)
	if len(byFamily.TaskDefinitionArns) != 1 || byFamily.NextToken == nil {
		t.Errorf("first page by family = %+v", byFamily)
	}

	must(c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String("api:1")}))(t)
	inactive := must(c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: types.TaskDefinitionStatusInactive}))(t)
	if len(inactive.TaskDefinitionArns) != 1 {
		t.Errorf("inactive = %v", inactive.TaskDefinitionArns)
	}
	fams := must(c.ListTaskDefinitionFamilies(ctx, &ecs.ListTaskDefinitionFamiliesInput{Status: types.TaskDefinitionFamilyStatusActive}))(t)
	if !slices.Equal(fams.Families, []string{"web"}) {
		t.Errorf("active families = %v", fams.Families)
	}
	_, err = c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("api")})
	wantError[*types.ClientException](t, err)

	del := must(c.DeleteTaskDefinitions(ctx, &ecs.DeleteTaskDefinitionsInput{TaskDefinitions: []string{"api:1", "web:1"}}))(t)
	if len(del.TaskDefinitions) != 1 || del.TaskDefinitions[0].Status != types.TaskDefinitionStatusDeleteInProgress || len(del.Failures) != 1 {
		t.Errorf("delete = %+v / %+v", del.TaskDefinitions, del.Failures)
	}

	bad := fullTaskDefinition()
	bad.ContainerDefinitions[0].Memory = aws.Int32(100)
	_, err = c.RegisterTaskDefinition(ctx, bad)
	e := wantError[*types.ClientException](t, err)
	if !containsAll(aws.ToString(e.Message), "containerDefinitions[0].memory", "memoryReservation") {
		t.Errorf("message %q should name the field and the rule", aws.ToString(e.Message))
	}
}

func TestSDKContainerInstances(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	must(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("web")}))(t)
	_, err := c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("missing")})
	wantError[*types.ClusterNotFoundException](t, err)

	register := func(az, itype string) types.ContainerInstance {
		out := must(c.RegisterContainerInstance(ctx, &ecs.RegisterContainerInstanceInput{
			Cluster: aws.String("web"),
			TotalResources: []types.Resource{
				{Name: aws.String("CPU"), Type: aws.String("INTEGER"), IntegerValue: 2048},
				{Name: aws.String("MEMORY"), Type: aws.String("INTEGER"), IntegerValue: 3900},
				{Name: aws.String("PORTS"), Type: aws.String("STRINGSET"), StringSetValue: []string{"22", "2375"}},
				{Name: aws.String("PORTS_UDP"), Type: aws.String("STRINGSET"), StringSetValue: []string{}},
			},
			VersionInfo:     &types.VersionInfo{AgentVersion: aws.String("1.80.0"), DockerVersion: aws.String("20.10.24")},
			PlatformDevices: []types.PlatformDevice{{Id: aws.String("gpu0"), Type: types.PlatformDeviceTypeGpu}},
			Attributes: []types.Attribute{
				{Name: aws.String("ecs.availability-zone"), Value: aws.String(az)},
				{Name: aws.String("ecs.instance-type"), Value: aws.String(itype)},
			},
		}))(t)
		return *out.ContainerInstance
	}
	a := register("us-east-1a", "t2.small")
	b := register("us-east-1b", "t2.large")
	if a.Status == nil || aws.ToString(a.Status) != "ACTIVE" || !a.AgentConnected || a.RegisteredAt == nil || a.Version < 1 {
		t.Errorf("registered instance = %+v", a)
	}
	if got := resource(a.RemainingResources, "CPU"); got.IntegerValue != 2048 {
		t.Errorf("remaining CPU = %d, want 2048", got.IntegerValue)
	}
	if got := resource(a.RegisteredResources, "PORTS"); !slices.Equal(got.StringSetValue, []string{"22", "2375"}) {
		t.Errorf("registered PORTS = %v", got.StringSetValue)
	}
	if got := resource(a.RegisteredResources, "GPU"); !slices.Equal(got.StringSetValue, []string{"gpu0"}) {
		t.Errorf("registered GPU = %v", got.StringSetValue)
	}

	desc := must(c.DescribeContainerInstances(ctx, &ecs.DescribeContainerInstancesInput{Cluster: aws.String("web"),
		ContainerInstances: []string{aws.ToString(a.ContainerInstanceArn), "0123456789abcdef0123456789abcdef"}}))(t)
	if len(desc.ContainerInstances) != 1 || len(desc.Failures) != 1 || aws.ToString(desc.Failures[0].Reason) != "MISSING" {
		t.Errorf("describe = %+v / %+v", desc.ContainerInstances, desc.Failures)
	}
	filtered := must(c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("web"), Filter: aws.String("attribute:ecs.instance-type == t2.small")}))(t)
	if !slices.Equal(filtered.ContainerInstanceArns, []string{aws.ToString(a.ContainerInstanceArn)}) {
		t.Errorf("filtered = %v", filtered.ContainerInstanceArns)
	}
	_, err = c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("web"), Filter: aws.String("attribute:ecs.instance-type equalz t2.small")})
	e := wantError[*types.InvalidParameterException](t, err)
	if !containsAll(aws.ToString(e.Message), "position", "equalz") {
		t.Errorf("filter error %q should say where and what", aws.ToString(e.Message))
	}

	drained := must(c.UpdateContainerInstancesState(ctx, &ecs.UpdateContainerInstancesStateInput{Cluster: aws.String("web"),
		ContainerInstances: []string{aws.ToString(b.ContainerInstanceArn)}, Status: types.ContainerInstanceStatusDraining}))(t)
	if len(drained.ContainerInstances) != 1 || aws.ToString(drained.ContainerInstances[0].Status) != "DRAINING" {
		t.Fatalf("drain = %+v", drained)
	}
	draining := must(c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("web"), Status: types.ContainerInstanceStatusDraining}))(t)
	if len(draining.ContainerInstanceArns) != 1 {
		t.Errorf("draining = %v", draining.ContainerInstanceArns)
	}
	paged := must(c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("web"), MaxResults: aws.Int32(1)}))(t)
	if len(paged.ContainerInstanceArns) != 1 || paged.NextToken == nil {
		t.Errorf("first page = %+v", paged)
	}
	rest := must(c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("web"), MaxResults: aws.Int32(1), NextToken: paged.NextToken}))(t)
	if len(rest.ContainerInstanceArns) != 1 || rest.ContainerInstanceArns[0] == paged.ContainerInstanceArns[0] {
		t.Errorf("second page = %+v", rest)
	}
	_, err = c.ListContainerInstances(ctx, &ecs.ListContainerInstancesInput{Cluster: aws.String("web"), NextToken: aws.String("forged")})
	wantError[*types.InvalidParameterException](t, err)

	target := aws.ToString(a.ContainerInstanceArn)
	must(c.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("web"), Attributes: []types.Attribute{{Name: aws.String("stack"), Value: aws.String("prod"), TargetId: aws.String(target)}}}))(t)
	attrs := must(c.ListAttributes(ctx, &ecs.ListAttributesInput{Cluster: aws.String("web"), TargetType: types.TargetTypeContainerInstance, AttributeName: aws.String("stack")}))(t)
	if len(attrs.Attributes) != 1 || aws.ToString(attrs.Attributes[0].TargetId) != target {
		t.Errorf("attributes = %+v", attrs.Attributes)
	}
	var many []types.Attribute
	for i := range 10 {
		many = append(many, types.Attribute{Name: aws.String("custom" + string(rune('a'+i))), TargetId: aws.String(target)})
	}
	_, err = c.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("web"), Attributes: many})
	wantError[*types.AttributeLimitExceededException](t, err)
	_, err = c.PutAttributes(ctx, &ecs.PutAttributesInput{Cluster: aws.String("web"), Attributes: []types.Attribute{{Name: aws.String("x"), TargetId: aws.String("0123456789abcdef0123456789abcdef")}}})
	wantError[*types.TargetNotFoundException](t, err)
	must(c.DeleteAttributes(ctx, &ecs.DeleteAttributesInput{Cluster: aws.String("web"), Attributes: []types.Attribute{{Name: aws.String("stack"), TargetId: aws.String(target)}}}))(t)
	attrs = must(c.ListAttributes(ctx, &ecs.ListAttributesInput{Cluster: aws.String("web"), TargetType: types.TargetTypeContainerInstance, AttributeName: aws.String("stack")}))(t)
	if len(attrs.Attributes) != 0 {
		t.Errorf("attribute survived delete: %+v", attrs.Attributes)
	}

	for _, arn := range []string{"arn:aws:ecs:us-east-1:000000000000:cluster/web", target} {
		must(c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}))(t)
		must(c.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a"}}))(t)
		tags := must(c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(arn)}))(t)
		if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "b" {
			t.Errorf("tags of %s = %+v", arn, tags.Tags)
		}
	}
	_, err = c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:ecs:us-east-1:000000000000:container-instance/web/0123456789abcdef0123456789abcdef")})
	wantError[*types.ResourceNotFoundException](t, err)

	_, err = c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("web")})
	wantError[*types.ClusterContainsContainerInstancesException](t, err)
	for _, ci := range []string{aws.ToString(a.ContainerInstanceArn), aws.ToString(b.ContainerInstanceArn)} {
		out := must(c.DeregisterContainerInstance(ctx, &ecs.DeregisterContainerInstanceInput{Cluster: aws.String("web"), ContainerInstance: aws.String(ci)}))(t)
		if aws.ToString(out.ContainerInstance.Status) != "INACTIVE" {
			t.Errorf("deregistered status = %s", aws.ToString(out.ContainerInstance.Status))
		}
	}
	must(c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("web")}))(t)
}

func resource(rs []types.Resource, name string) types.Resource {
	for _, r := range rs {
		if aws.ToString(r.Name) == name {
			return r
		}
	}
	return types.Resource{}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !stringsContains(s, p) {
			return false
		}
	}
	return true
}
