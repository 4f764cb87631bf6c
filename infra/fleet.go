package main

import (
	"debug/elf"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/berth-run/berth/shared/ecs"
)

// FleetProps sizes the optional fleet of container instances: an Auto
// Scaling group of Amazon Linux 2023 arm64 hosts, each running `berth
// agent` with Docker. Zero values take the defaults noted on each field.
type FleetProps struct {
	// Size is the number of hosts, 1-100; default 1.
	Size int
	// InstanceType is an arm64 (Graviton) EC2 instance type; default
	// t4g.small.
	InstanceType string
	// Cluster is the cluster the agents join (ECS_CLUSTER); default
	// "default", which the agent creates if it does not exist. Create any
	// other cluster before its hosts start.
	Cluster string
	// AgentBinary is the linux/arm64 build of ./cmd/berth the hosts run;
	// default dist/berth-linux-arm64 (make build).
	AgentBinary string
}

// Fleet defaults and fixed choices.
const (
	DefaultFleetSize         = 1
	DefaultFleetInstanceType = "t4g.small"
	DefaultAgentBinary       = "dist/berth-linux-arm64"
	// maxFleetSize guards against a typo; a bigger fleet is an edit here.
	maxFleetSize = 100
	// fleetVolumeGiB holds the OS, Docker and the tasks' images.
	fleetVolumeGiB = 20
	// fleetCIDR is the VPC's range; its subnets are 10.42.0.0/20 and
	// 10.42.16.0/20.
	fleetCIDR = "10.42.0.0/16"
	// fleetZones: two Availability Zones, the most Fn::GetAZs promises in
	// every region.
	fleetZones = 2
	// agentPath and agentUnit are where the user data installs the agent.
	agentPath = "/usr/local/bin/berth"
	agentUnit = "berth-agent.service"
)

func (p FleetProps) withDefaults() FleetProps {
	if p.Size == 0 {
		p.Size = DefaultFleetSize
	}
	if p.InstanceType == "" {
		p.InstanceType = DefaultFleetInstanceType
	}
	if p.Cluster == "" {
		p.Cluster = ecs.DefaultCluster
	}
	if p.AgentBinary == "" {
		p.AgentBinary = DefaultAgentBinary
	}
	return p
}

// validate checks the fleet's settings, and that the agent binary is
// built for the hosts, before any resource is made.
func (p FleetProps) validate() error {
	if p.Size < 1 || p.Size > maxFleetSize {
		return fmt.Errorf("fleet size %d: want 1-%d hosts", p.Size, maxFleetSize)
	}
	if !isArm64InstanceType(p.InstanceType) {
		return fmt.Errorf("fleet instance type %q: want an arm64 (Graviton) type such as t4g.small, m7g.large or c8g.xlarge; the hosts run Amazon Linux 2023 for arm64", p.InstanceType)
	}
	if name, err := ecs.ClusterName(p.Cluster); err != nil || name != p.Cluster {
		return fmt.Errorf("fleet cluster %q: want a cluster name of up to 255 letters, digits, '-' and '_'", p.Cluster)
	}
	return checkAgentBinary(p.AgentBinary)
}

// instanceTypeRE splits an instance type such as c7gn.xlarge into its
// family (c), generation (7), capabilities (gn) and size.
var instanceTypeRE = regexp.MustCompile(`^([a-z]+)(\d{1,2})([a-z-]*)\.([a-z0-9-]+)$`)

// isArm64InstanceType reports whether an instance type is Graviton: the
// a1 family, or a "g" among its capabilities (t4g, m7gd, c6gn, g5g).
func isArm64InstanceType(t string) bool {
	m := instanceTypeRE.FindStringSubmatch(t)
	return m != nil && (m[1] == "a" || strings.Contains(m[3], "g"))
}

// checkAgentBinary refuses anything but a linux/arm64 executable, so a
// host build (dist/berth) is not shipped to Graviton hosts by mistake.
func checkAgentBinary(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("fleet agent binary %s: %w; run `make build` first", path, err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("fleet agent binary %s is a %s %s %s file, not a linux/arm64 executable; build it with `GOOS=linux GOARCH=arm64 go build ./cmd/berth` (make build does)", path, f.Class, f.Machine, f.Type)
	}
	return nil
}

// addFleet declares the fleet: a VPC of its own, a security group with no
// inbound rule, a launch template, and the Auto Scaling group.
func (s *BerthStack) addFleet() {
	p := *s.props.Fleet
	scope := constructs.NewConstruct(s.Stack, jsii.String("Fleet"))
	vpc := s.addFleetNetwork(scope)
	sg := awsec2.NewSecurityGroup(scope, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("Berth agent hosts: no inbound traffic; outbound to the control plane, S3, package and image registries"),
		AllowAllOutbound: jsii.Bool(true),
	})
	template := awsec2.NewLaunchTemplate(scope, jsii.String("LaunchTemplate"), &awsec2.LaunchTemplateProps{
		MachineImage: awsec2.MachineImage_LatestAmazonLinux2023(&awsec2.AmazonLinux2023ImageSsmParameterProps{
			CpuType: awsec2.AmazonLinuxCpuType_ARM_64,
		}),
		InstanceType:    awsec2.NewInstanceType(jsii.String(p.InstanceType)),
		UserData:        s.agentUserData(scope, p),
		InstanceProfile: s.AgentInstanceProfile,
		SecurityGroup:   sg,
		RequireImdsv2:   jsii.Bool(true),
		HttpTokens:      awsec2.LaunchTemplateHttpTokens_REQUIRED,
		HttpEndpoint:    jsii.Bool(true),
		// One hop: the host's processes reach instance metadata, containers
		// behind Docker's bridge do not, so tasks cannot take the agent's
		// credentials (Amazon Linux 2023's AMIs default to two hops).
		HttpPutResponseHopLimit: jsii.Number(1),
		BlockDevices: &[]*awsec2.BlockDevice{{
			DeviceName: jsii.String("/dev/xvda"),
			Volume: awsec2.BlockDeviceVolume_Ebs(jsii.Number(fleetVolumeGiB), &awsec2.EbsDeviceOptions{
				Encrypted:           jsii.Bool(true),
				VolumeType:          awsec2.EbsDeviceVolumeType_GP3,
				DeleteOnTermination: jsii.Bool(true),
			}),
		}},
	})
	props := &awsautoscaling.AutoScalingGroupProps{
		Vpc:            vpc,
		VpcSubnets:     &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC},
		LaunchTemplate: template,
		MinCapacity:    jsii.Number(float64(p.Size)),
		MaxCapacity:    jsii.Number(float64(p.Size)),
		// A new launch template version (a new agent build, AMI or
		// setting) replaces the hosts one at a time.
		UpdatePolicy: awsautoscaling.UpdatePolicy_RollingUpdate(&awsautoscaling.RollingUpdateOptions{
			MaxBatchSize:          jsii.Number(1),
			MinInstancesInService: jsii.Number(float64(p.Size - 1)),
		}),
	}
	if s.Notifications != nil {
		props.Notifications = &[]*awsautoscaling.NotificationConfiguration{{
			Topic: s.Notifications, ScalingEvents: awsautoscaling.ScalingEvents_ALL(),
		}}
	}
	group := awsautoscaling.NewAutoScalingGroup(scope, jsii.String("Group"), props)
	awscdk.Tags_Of(group).Add(jsii.String("Name"), jsii.String("berth-agent"), nil)
	if s.Notifications == nil {
		accept(group, "AwsSolutions-AS3", "Without berth:alarmEmail the stack has no topic to notify; the group's launches and terminations stay in its activity history and reach the default event bus as EC2 Auto Scaling events. With berth:alarmEmail they go to the Notifications topic.")
	}
	s.FleetGroup = group
	for _, o := range []struct{ id, value, description string }{
		{"FleetAutoScalingGroupName", *group.AutoScalingGroupName(), "The Auto Scaling group of Berth agent hosts"},
		{"FleetSecurityGroupId", *sg.SecurityGroupId(), "The agent hosts' security group (no inbound rule): open the host ports your tasks publish here"},
		{"FleetVpcId", *vpc.VpcId(), "The VPC of the agent hosts"},
	} {
		awscdk.NewCfnOutput(s.Stack, jsii.String(o.id), &awscdk.CfnOutputProps{Value: jsii.String(o.value), Description: jsii.String(o.description)})
	}
}

// addFleetNetwork declares the fleet's VPC from CloudFormation resources:
// one public subnet in each of two Availability Zones chosen with
// Fn::GetAZs, so synthesis looks nothing up whatever the environment, and
// no NAT gateway, so nothing is charged while the hosts only call out
// through the internet gateway. Its flow log keeps every flow for the
// stack's log retention.
func (s *BerthStack) addFleetNetwork(scope constructs.Construct) awsec2.IVpc {
	vpc := awsec2.NewCfnVPC(scope, jsii.String("Vpc"), &awsec2.CfnVPCProps{
		CidrBlock:          jsii.String(fleetCIDR),
		EnableDnsHostnames: jsii.Bool(true),
		EnableDnsSupport:   jsii.Bool(true),
		Tags:               &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String("berth-fleet")}},
	})
	gateway := awsec2.NewCfnInternetGateway(scope, jsii.String("InternetGateway"), &awsec2.CfnInternetGatewayProps{})
	attachment := awsec2.NewCfnVPCGatewayAttachment(scope, jsii.String("GatewayAttachment"), &awsec2.CfnVPCGatewayAttachmentProps{
		VpcId: vpc.Ref(), InternetGatewayId: gateway.Ref(),
	})
	routes := awsec2.NewCfnRouteTable(scope, jsii.String("PublicRoutes"), &awsec2.CfnRouteTableProps{VpcId: vpc.Ref()})
	internet := awsec2.NewCfnRoute(scope, jsii.String("InternetRoute"), &awsec2.CfnRouteProps{
		RouteTableId: routes.Ref(), DestinationCidrBlock: jsii.String("0.0.0.0/0"), GatewayId: gateway.Ref(),
	})
	internet.AddResourceDependency(attachment, jsii.String("the gateway routes only once attached"))
	var zones, subnets, routeTables []*string
	for i := range fleetZones {
		zone := awscdk.Fn_Select(jsii.Number(float64(i)), awscdk.Fn_GetAzs(jsii.String("")))
		subnet := awsec2.NewCfnSubnet(scope, jsii.String(fmt.Sprintf("PublicSubnet%d", i+1)), &awsec2.CfnSubnetProps{
			VpcId:               vpc.Ref(),
			AvailabilityZone:    zone,
			CidrBlock:           jsii.String(fmt.Sprintf("10.42.%d.0/20", 16*i)),
			MapPublicIpOnLaunch: jsii.Bool(true),
			Tags:                &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String(fmt.Sprintf("berth-fleet-public-%d", i+1))}},
		})
		association := awsec2.NewCfnSubnetRouteTableAssociation(scope, jsii.String(fmt.Sprintf("PublicSubnet%dRoutes", i+1)), &awsec2.CfnSubnetRouteTableAssociationProps{
			SubnetId: subnet.Ref(), RouteTableId: routes.Ref(),
		})
		association.AddResourceDependency(internet, jsii.String("hosts launched before the default route would have no way out"))
		zones, subnets, routeTables = append(zones, zone), append(subnets, subnet.Ref()), append(routeTables, routes.Ref())
	}
	imported := awsec2.Vpc_FromVpcAttributes(scope, jsii.String("Network"), &awsec2.VpcAttributes{
		VpcId:                     vpc.Ref(),
		VpcCidrBlock:              vpc.AttrCidrBlock(),
		AvailabilityZones:         &zones,
		PublicSubnetIds:           &subnets,
		PublicSubnetRouteTableIds: &routeTables,
	})
	logs := awslogs.NewLogGroup(scope, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention:     s.props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	awsec2.NewFlowLog(scope, jsii.String("FlowLog"), &awsec2.FlowLogProps{
		ResourceType: awsec2.FlowLogResourceType_FromVpc(imported),
		Destination:  awsec2.FlowLogDestination_ToCloudWatchLogs(logs, nil),
		TrafficType:  awsec2.FlowLogTrafficType_ALL,
	})
	return imported
}

// agentUserData installs Docker and the agent, writes the agent's
// settings where the ECS agent's user data would (/etc/ecs/ecs.config,
// also the unit's environment, so the AWS SDK finds the region), and runs
// `berth agent` under systemd, restarted whenever it exits. The binary is
// an S3 asset the host's role may read, and nothing else of the bucket.
func (s *BerthStack) agentUserData(scope constructs.Construct, p FleetProps) awsec2.UserData {
	binary := awss3assets.NewAsset(scope, jsii.String("AgentBinary"), &awss3assets.AssetProps{Path: jsii.String(p.AgentBinary)})
	s.AgentRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetObject"),
		Resources: jsii.Strings(*binary.Bucket().ArnForObjects(binary.S3ObjectKey())),
	}))
	data := awsec2.UserData_ForLinux(&awsec2.LinuxUserDataOptions{Shebang: jsii.String("#!/bin/bash")})
	data.AddCommands(*jsii.Strings(agentInstallScript(agentSettings{
		Cluster:  p.Cluster,
		Endpoint: *s.urls[apiFunction].Url(),
		Region:   *awscdk.Aws_REGION(),
		Bucket:   *binary.S3BucketName(),
		Key:      *binary.S3ObjectKey(),
	})...)...)
	return data
}

// agentSettings are the values the install script needs; under synthesis
// all but the cluster are CloudFormation tokens.
type agentSettings struct {
	Cluster, Endpoint, Region, Bucket, Key string
}

// agentConfigLines are /etc/ecs/ecs.config's lines for one host.
func agentConfigLines(a agentSettings) []string {
	return []string{
		"ECS_CLUSTER=" + a.Cluster,
		"BERTH_ENDPOINT=" + a.Endpoint,
		"BERTH_DRIVER=docker",
		"AWS_REGION=" + a.Region,
	}
}

// agentInstallScript is the user data's commands, after the shebang.
func agentInstallScript(a agentSettings) []string {
	lines := []string{
		"set -euxo pipefail",
		"dnf install -y docker",
		"systemctl enable --now docker",
		"mkdir -p /etc/ecs",
		"cat > /etc/ecs/ecs.config <<'EOF'",
	}
	lines = append(lines, agentConfigLines(a)...)
	lines = append(lines,
		"EOF",
		fmt.Sprintf("aws s3 cp --region %s s3://%s/%s %s", a.Region, a.Bucket, a.Key, agentPath),
		"chmod 0755 "+agentPath,
		"cat > /etc/systemd/system/"+agentUnit+" <<'EOF'",
		"[Unit]",
		"Description=Berth agent: runs this host's tasks for the Berth control plane",
		"Wants=network-online.target",
		"After=network-online.target docker.service",
		"Requires=docker.service",
		"",
		"[Service]",
		"EnvironmentFile=/etc/ecs/ecs.config",
		"ExecStart="+agentPath+" agent",
		"Restart=always",
		"RestartSec=5",
		"",
		"[Install]",
		"WantedBy=multi-user.target",
		"EOF",
		"systemctl daemon-reload",
		"systemctl enable --now "+agentUnit,
	)
	return lines
}
