package control

import (
	"encoding/base64"
	"strconv"

	"github.com/berth-run/berth/shared/ecs"
)

const offsetTokenPrefix = "o1."

// offsetPage pages through a list computed in memory; its nextToken
// carries the offset of the next item.
func offsetPage[T any](all []T, token string, maxResults *int, max int) ([]T, string, error) {
	limit := max
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > max {
			return nil, "", ecs.InvalidParameter("maxResults: %d is outside 1-%d", *maxResults, max)
		}
		limit = *maxResults
	}
	start := 0
	if token != "" {
		n, ok := decodeOffset(token)
		if !ok || n > len(all) {
			return nil, "", ecs.InvalidParameter("nextToken: the token is not valid")
		}
		start = n
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = offsetTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return all[start:end], next, nil
}

func decodeOffset(token string) (int, bool) {
	if len(token) <= len(offsetTokenPrefix) || token[:len(offsetTokenPrefix)] != offsetTokenPrefix {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(token[len(offsetTokenPrefix):])
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(b))
	return n, err == nil && n >= 0
}
