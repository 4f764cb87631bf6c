package fn

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/berth-run/berth/shared/control"
	"github.com/berth-run/berth/shared/store"
	"github.com/berth-run/berth/shared/store/dynamo"
)

// NewControl builds the use cases over the configured DynamoDB table, as
// every function that reads or writes state does.
func NewControl(cfg Config) *control.Control {
	st := dynamo.New(dynamodb.NewFromConfig(cfg.AWS), cfg.TableName, dynamo.WithLogger(cfg.Log))
	db := store.NewDB(st, cfg.Account, time.Now, RandomID)
	return control.New(db, control.Options{Now: time.Now, Seed: RandomSeed})
}
