package ecs

import (
	"errors"
	"fmt"
)

// Exception names exactly as ECS returns them in an error's __type.
const (
	AccessDeniedException                      = "AccessDeniedException"
	AttributeLimitExceededException            = "AttributeLimitExceededException"
	ClientException                            = "ClientException"
	ClusterContainsContainerInstancesException = "ClusterContainsContainerInstancesException"
	ClusterContainsServicesException           = "ClusterContainsServicesException"
	ClusterContainsTasksException              = "ClusterContainsTasksException"
	ClusterNotFoundException                   = "ClusterNotFoundException"
	ConflictException                          = "ConflictException"
	InvalidParameterException                  = "InvalidParameterException"
	LimitExceededException                     = "LimitExceededException"
	ResourceInUseException                     = "ResourceInUseException"
	ResourceNotFoundException                  = "ResourceNotFoundException"
	ServerException                            = "ServerException"
	ServiceNotActiveException                  = "ServiceNotActiveException"
	ServiceNotFoundException                   = "ServiceNotFoundException"
	TargetNotFoundException                    = "TargetNotFoundException"
	UnsupportedFeatureException                = "UnsupportedFeatureException"
	UpdateInProgressException                  = "UpdateInProgressException"
	// Protocol-level errors shared by every AWS JSON service.
	SerializationException    = "SerializationException"
	UnknownOperationException = "UnknownOperationException"
	ThrottlingException       = "ThrottlingException"
)

// Error is an API error in ECS's taxonomy: Code is the exception name a
// client sees in __type, Message the human text. Fault marks errors that are
// the server's, not the caller's (ServerException and friends).
type Error struct {
	Code    string
	Message string
	Fault   bool
	// ResourceIDs is set on ConflictException, as ECS does.
	ResourceIDs []string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds a client error with the given exception name.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidParameter is the error ECS returns for a malformed or out-of-range field.
func InvalidParameter(format string, args ...any) *Error {
	return Errorf(InvalidParameterException, format, args...)
}

// Client is ECS's catch-all ClientException, used for task-definition rules.
func Client(format string, args ...any) *Error {
	return Errorf(ClientException, format, args...)
}

// ClusterNotFound is returned when a named cluster does not exist or is INACTIVE.
func ClusterNotFound() *Error {
	return Errorf(ClusterNotFoundException, "Cluster not found.")
}

// Server wraps an internal failure; the caller sees a 5xx ServerException.
func Server(err error) *Error {
	return &Error{Code: ServerException, Message: err.Error(), Fault: true}
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsCode reports whether err is an ECS error with the given exception name.
func IsCode(err error, code string) bool {
	e, ok := AsError(err)
	return ok && e.Code == code
}
