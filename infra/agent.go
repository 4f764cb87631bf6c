package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// apiFunction is the function agents call: the one behind the Function URL.
const apiFunction = "api"

// addAgentRole declares the role agents' hosts run under and its instance
// profile. It may do one thing: call the api function through its URL.
// lambda:InvokeFunctionUrl is limited to AWS_IAM URLs and
// lambda:InvokeFunction to invocations made through a function URL, so
// the host's credentials cannot invoke the function directly. It costs
// nothing and is always there, for the stack's fleet or hosts of your own.
func (s *BerthStack) addAgentRole() error {
	api, ok := s.Functions[apiFunction]
	if !ok || s.urls[apiFunction] == nil {
		return fmt.Errorf("the agent role needs the %s function, served at a Function URL (TriggerURL)", apiFunction)
	}
	role := awsiam.NewRole(s.Stack, jsii.String("AgentRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ec2.amazonaws.com"), nil),
		Description: jsii.String("Berth agent hosts: call the api Function URL (SigV4, service lambda) and nothing else"),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("lambda:InvokeFunctionUrl"),
		Resources:  jsii.Strings(*api.FunctionArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{"lambda:FunctionUrlAuthType": "AWS_IAM"}},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("lambda:InvokeFunction"),
		Resources:  jsii.Strings(*api.FunctionArn()),
		Conditions: &map[string]any{"Bool": map[string]any{"lambda:InvokedViaFunctionUrl": "true"}},
	}))
	s.AgentRole = role
	s.AgentInstanceProfile = awsiam.NewInstanceProfile(s.Stack, jsii.String("AgentInstanceProfile"), &awsiam.InstanceProfileProps{Role: role})
	awscdk.NewCfnOutput(s.Stack, jsii.String("AgentRoleArn"), &awscdk.CfnOutputProps{
		Value:       role.RoleArn(),
		Description: jsii.String("The role Berth agents' hosts run under: it may call the api Function URL"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String("AgentInstanceProfileName"), &awscdk.CfnOutputProps{
		Value:       s.AgentInstanceProfile.InstanceProfileName(),
		Description: jsii.String("Launch your own EC2 hosts with this instance profile to run `berth agent` against this control plane"),
	})
	return nil
}
