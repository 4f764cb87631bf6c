package store

import (
	"context"
	"errors"
)

// clientTokenRecord remembers what an idempotent request did, so a retry
// gets the same answer.
type clientTokenRecord struct {
	Digest string   `json:"digest"`
	ARNs   []string `json:"arns"`
}

// ClientToken reads what the request with this token did; ok is false when
// the token is new.
func (db *DB) ClientToken(ctx context.Context, cluster, token string) (digest string, arns []string, ok bool, err error) {
	var rec clientTokenRecord
	_, err = db.getJSON(ctx, clientTokenKey(cluster, token), &rec)
	if errors.Is(err, ErrNotFound) {
		return "", nil, false, nil
	}
	return rec.Digest, rec.ARNs, err == nil, err
}

// ClientTokenWrite records a token in the transaction that does the
// request's work, so the work happens at most once; the record expires
// with the retention of stopped tasks.
func (db *DB) ClientTokenWrite(cluster, token, digest string, arns []string) (Write, error) {
	w, err := putWrite(clientTokenKey(cluster, token), clientTokenRecord{Digest: digest, ARNs: arns}, 0)
	w.Item.ExpiresAt = db.now().Add(db.StoppedTaskTTL).Unix()
	return w, err
}
