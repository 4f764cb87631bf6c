// Package api is Berth's HTTP surface: the awsJson1_1 protocol that the
// aws CLI and the AWS SDKs speak (POST /, X-Amz-Target names the action,
// JSON in and out, errors as {"__type", "message"}), serving the ECS API,
// Application Auto Scaling, the agent protocol and, for the local control
// plane, EventBridge's PutEvents. It decodes strictly (unknown fields, wrong
// types, invalid UTF-8 and oversize bodies are client errors naming the
// problem), calls the use cases in shared/control, and never lets a panic
// reach a client.
package api
