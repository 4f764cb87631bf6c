package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-run/berth/shared/agentproto"
	"github.com/berth-run/berth/shared/ecs"
)

// ProtocolVersion is the version of the BerthAgent actions this agent speaks.
const ProtocolVersion = agentproto.Version

// Target prefixes of the actions the agent calls.
const (
	ecsTarget   = "AmazonEC2ContainerServiceV20141113."
	agentTarget = "BerthAgent."
)

// The agent protocol's messages (shared/agentproto, which the control
// plane's side uses too).
type (
	PollInput          = agentproto.PollInput
	PollOutput         = agentproto.PollOutput
	AgentTask          = agentproto.Task
	TaskStateInput     = agentproto.TaskStateInput
	ContainerStateWire = agentproto.ContainerState
	TaskStateOutput    = agentproto.TaskStateOutput
)

// RegisterInput is ECS's RegisterContainerInstance request, as the ECS
// agent sends it.
type RegisterInput struct {
	Cluster                           string               `json:"cluster,omitempty"`
	InstanceIdentityDocument          string               `json:"instanceIdentityDocument,omitempty"`
	InstanceIdentityDocumentSignature string               `json:"instanceIdentityDocumentSignature,omitempty"`
	TotalResources                    []ecs.Resource       `json:"totalResources"`
	VersionInfo                       *ecs.VersionInfo     `json:"versionInfo,omitempty"`
	ContainerInstanceArn              string               `json:"containerInstanceArn,omitempty"`
	Attributes                        []ecs.Attribute      `json:"attributes,omitempty"`
	PlatformDevices                   []ecs.PlatformDevice `json:"platformDevices,omitempty"`
}

type registerOutput struct {
	ContainerInstance ecs.ContainerInstance `json:"containerInstance"`
}

type createClusterInput struct {
	ClusterName string `json:"clusterName"`
}

// Client calls the control plane's endpoint: ECS actions and the BerthAgent
// actions, both awsJson1_1. Requests are signed with SigV4 when
// credentials are given: for the service "lambda" in the URL's region when
// the endpoint is a Lambda Function URL (the deployed control plane), else
// for "ecs". Errors the server returns are *ecs.Error.
type Client struct {
	endpoint    string
	http        *http.Client
	credentials aws.CredentialsProvider
	region      string
	service     string
	signer      *v4.Signer
}

// ClientOptions configure a Client.
type ClientOptions struct {
	// HTTP is the HTTP client; nil means one without an overall timeout
	// (calls are bounded by their contexts; long polls take a while).
	HTTP *http.Client
	// Credentials sign requests; nil sends them unsigned.
	Credentials aws.CredentialsProvider
	// Region is the signing region; default us-east-1. A Function URL's
	// own region overrides it: AWS accepts no other.
	Region string
}

// Signing services: a Function URL authenticates requests for Lambda; any
// other endpoint is taken for the ECS API it speaks.
const (
	signForLambda = "lambda"
	signForECS    = "ecs"
)

// FunctionURLRegion reads the region from a Lambda Function URL's host,
// <url-id>.lambda-url.<region>.on.aws; "" if the host is not one.
func FunctionURLRegion(host string) string {
	parts := strings.Split(strings.ToLower(host), ".")
	if len(parts) == 5 && parts[1] == "lambda-url" && parts[3] == "on" && parts[4] == "aws" {
		return parts[2]
	}
	return ""
}

// NewClient makes a client of the control plane at endpoint.
func NewClient(endpoint string, opts ClientOptions) *Client {
	c := &Client{endpoint: strings.TrimRight(endpoint, "/") + "/", http: opts.HTTP, credentials: opts.Credentials, region: opts.Region, service: signForECS}
	if u, err := url.Parse(endpoint); err == nil {
		if region := FunctionURLRegion(u.Hostname()); region != "" {
			c.region, c.service = region, signForLambda
		}
	}
	if c.http == nil {
		c.http = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	if c.region == "" {
		c.region = "us-east-1"
	}
	if c.credentials != nil {
		c.signer = v4.NewSigner()
	}
	return c
}

// Register calls RegisterContainerInstance.
func (c *Client) Register(ctx context.Context, in *RegisterInput) (ecs.ContainerInstance, error) {
	var out registerOutput
	err := c.call(ctx, ecsTarget+"RegisterContainerInstance", in, &out)
	return out.ContainerInstance, err
}

// CreateCluster calls CreateCluster (the agent creates the default cluster
// when it does not exist, as the ECS agent does).
func (c *Client) CreateCluster(ctx context.Context, name string) error {
	return c.call(ctx, ecsTarget+"CreateCluster", &createClusterInput{ClusterName: name}, nil)
}

// Poll calls BerthAgent.Poll.
func (c *Client) Poll(ctx context.Context, in *PollInput) (*PollOutput, error) {
	in.ProtocolVersion = ProtocolVersion
	out := &PollOutput{}
	if err := c.call(ctx, agentTarget+"Poll", in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// SubmitTaskStateChange calls BerthAgent.SubmitTaskStateChange.
func (c *Client) SubmitTaskStateChange(ctx context.Context, in *TaskStateInput) (*TaskStateOutput, error) {
	in.ProtocolVersion = ProtocolVersion
	out := &TaskStateOutput{}
	if err := c.call(ctx, agentTarget+"SubmitTaskStateChange", in, out); err != nil {
		return nil, err
	}
	return out, nil
}

type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// callTimeout bounds a call whose context sets no deadline, so that a
// control plane that hangs cannot stall a runner.
const callTimeout = 30 * time.Second

func (c *Client) call(ctx context.Context, target string, in, out any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, callTimeout)
		defer cancel()
	}
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", target, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if err := c.sign(ctx, req, body); err != nil {
		return fmt.Errorf("%s: sign request: %w", target, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s: read response: %w", target, err)
	}
	if resp.StatusCode != http.StatusOK {
		return responseError(target, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decode response: %w", target, err)
	}
	return nil
}

// responseError turns an awsJson1_1 error body into an *ecs.Error.
func responseError(target string, status int, data []byte) error {
	var e errorBody
	if json.Unmarshal(data, &e) != nil || e.Type == "" {
		return &ecs.Error{Code: ecs.ServerException, Message: fmt.Sprintf("%s: HTTP %d: %s", target, status, truncate(string(data), 200)), Fault: status >= 500}
	}
	code := e.Type
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	code, _, _ = strings.Cut(code, ":")
	return &ecs.Error{Code: code, Message: e.Message, Fault: status >= 500}
}

func (c *Client) sign(ctx context.Context, req *http.Request, body []byte) error {
	if c.signer == nil {
		return nil
	}
	creds, err := c.credentials.Retrieve(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	return c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.service, c.region, time.Now())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
