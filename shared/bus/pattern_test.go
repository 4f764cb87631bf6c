package bus

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParsePatternAcceptsEventBridgePatterns(t *testing.T) {
	tests := []struct {
		pattern string
		kinds   []MatchKind
	}{
		{`{"source":["berth"]}`, []MatchKind{MatchExact}},
		{`{"detail":{"n":[1, 2.5, null, true, ""]}}`, []MatchKind{MatchExact, MatchExact, MatchExact, MatchExact, MatchExact}},
		{`{"detail":{"group":[{"prefix":"service:"}]}}`, []MatchKind{MatchPrefix}},
		{`{"detail":{"group":[{"prefix":{"equals-ignore-case":"SERVICE:"}}]}}`, []MatchKind{MatchPrefixIgnoreCase}},
		{`{"detail":{"f":[{"suffix":".png"}]}}`, []MatchKind{MatchSuffix}},
		{`{"detail":{"f":[{"suffix":{"equals-ignore-case":".PNG"}}]}}`, []MatchKind{MatchSuffixIgnoreCase}},
		{`{"detail":{"f":[{"equals-ignore-case":"Web"}]}}`, []MatchKind{MatchEqualsIgnoreCase}},
		{`{"detail":{"f":[{"wildcard":"arn:*:task/*"}]}}`, []MatchKind{MatchWildcard}},
		{`{"detail":{"f":[{"wildcard":"a\\*b\\\\c"}]}}`, []MatchKind{MatchWildcard}},
		{`{"detail":{"f":[{"exists":false}]}}`, []MatchKind{MatchExists}},
		{`{"detail":{"n":[{"numeric":[">",0,"<=",5]}]}}`, []MatchKind{MatchNumeric}},
		{`{"detail":{"n":[{"numeric":["=",3.018e2]}]}}`, []MatchKind{MatchNumeric}},
		{`{"detail":{"ip":[{"cidr":"10.0.0.0/24"}]}}`, []MatchKind{MatchCIDR}},
		{`{"detail":{"s":[{"anything-but":["STOPPED","PENDING"]}]}}`, []MatchKind{MatchAnythingBut}},
		{`{"detail":{"s":[{"anything-but":"STOPPED"}]}}`, []MatchKind{MatchAnythingButValue}},
		{`{"detail":{"s":[{"anything-but":[1,2]}]}}`, []MatchKind{MatchAnythingButNumbers}},
		{`{"detail":{"s":[{"anything-but":{"prefix":"init"}}]}}`, []MatchKind{MatchAnythingButPrefix}},
		{`{"detail":{"s":[{"anything-but":{"suffix":".tmp"}}]}}`, []MatchKind{MatchAnythingButSuffix}},
		{`{"detail":{"s":[{"anything-but":{"equals-ignore-case":["a","B"]}}]}}`, []MatchKind{MatchAnythingButIgnoreCase}},
		{`{"detail":{"s":[{"anything-but":{"wildcard":"*/lib/*"}}]}}`, []MatchKind{MatchAnythingButWildcard}},
		{`{"detail":{"$or":[{"a":["x"]},{"b":["y"]}]}}`, []MatchKind{MatchOr, MatchExact, MatchExact}},
	}
	for _, tt := range tests {
		p, err := ParsePattern([]byte(tt.pattern))
		if err != nil {
			t.Errorf("%s: %v", tt.pattern, err)
			continue
		}
		var kinds []MatchKind
		for _, m := range p.Matchers {
			kinds = append(kinds, m.Kind)
		}
		if len(kinds) != len(tt.kinds) {
			t.Errorf("%s: matchers %v, want kinds %v", tt.pattern, p.Matchers, tt.kinds)
			continue
		}
		for i := range kinds {
			if kinds[i] != tt.kinds[i] {
				t.Errorf("%s: matchers %v, want kinds %v", tt.pattern, p.Matchers, tt.kinds)
				break
			}
		}
	}
}

func TestParsePatternRecordsPathsAndCompacts(t *testing.T) {
	p, err := ParsePattern([]byte(`{ "source": ["berth"],
	  "detail": { "group": [ {"prefix": "service:"}, "family:x" ] } }`))
	if err != nil {
		t.Fatal(err)
	}
	if string(p.JSON) != `{"source":["berth"],"detail":{"group":[{"prefix":"service:"},"family:x"]}}` {
		t.Errorf("JSON = %s", p.JSON)
	}
	want := []Matcher{
		{Path: "detail.group", Kind: MatchPrefix},
		{Path: "detail.group", Kind: MatchExact},
		{Path: "source", Kind: MatchExact, Alone: true},
	}
	if len(p.Matchers) != len(want) {
		t.Fatalf("matchers %+v, want %+v", p.Matchers, want)
	}
	for i := range want {
		if p.Matchers[i] != want[i] {
			t.Errorf("matcher %d = %+v, want %+v", i, p.Matchers[i], want[i])
		}
	}
}

func TestParsePatternRefusesWhatEventBridgeRefuses(t *testing.T) {
	tests := []struct{ pattern, path, reason string }{
		{``, "", "empty"},
		{`nope`, "", "not valid JSON"},
		{`["source"]`, "", "must be a JSON object"},
		{`{"source":["a"]} {}`, "", "data after"},
		{`{}`, "", "empty objects"},
		{`{"detail":{}}`, "detail", "empty objects"},
		{`{"source":"berth"}`, "source", `"source" must be an object or an array`},
		{`{"source":[]}`, "source", "empty arrays"},
		{`{"source":[["berth"]]}`, "source", "match value must be"},
		{`{"a":[{"prefix":"x","suffix":"y"}]}`, "a", "exactly one key"},
		{`{"a":[{}]}`, "a", "exactly one key"},
		{`{"a":[{"shellstyle":"x*"}]}`, "a", `unrecognized match type "shellstyle"`},
		{`{"a":[{"prefix":1}]}`, "a", "prefix match pattern must be a string"},
		{`{"a":[{"prefix":{"wildcard":"x"}}]}`, "a", "prefix match pattern must be"},
		{`{"a":[{"equals-ignore-case":["x"]}]}`, "a", "equals-ignore-case match pattern must be a string"},
		{`{"a":[{"exists":"yes"}]}`, "a", "true or false"},
		{`{"a":[{"wildcard":"a**b"}]}`, "a", "consecutive wildcard"},
		{`{"a":[{"wildcard":"a\\b"}]}`, "a", "may only escape"},
		{`{"a":[{"wildcard":"ab\\"}]}`, "a", "may only escape"},
		{`{"a":[{"wildcard":5}]}`, "a", "wildcard match pattern must be a string"},
		{`{"a":[{"numeric":[">"]}]}`, "a", "numeric must be an array"},
		{`{"a":[{"numeric":"> 5"}]}`, "a", "numeric must be an array"},
		{`{"a":[{"numeric":["!=",5]}]}`, "a", "numeric operator"},
		{`{"a":[{"numeric":["<",0,">",5]}]}`, "a", "numeric operator"},
		{`{"a":[{"numeric":[">",5,"<","6"]}]}`, "a", "must be a number"},
		{`{"a":[{"numeric":[">",5,"<",5]}]}`, "a", "lower bound"},
		{`{"a":[{"numeric":[">",6e9]}]}`, "a", "between -5.0e9 and 5.0e9"},
		{`{"a":[{"cidr":"10.0.0.1"}]}`, "a", "not a CIDR block"},
		{`{"a":[{"cidr":24}]}`, "a", "cidr match pattern must be a string"},
		{`{"a":[{"anything-but":[]}]}`, "a", "empty arrays"},
		{`{"a":[{"anything-but":[true]}]}`, "a", "only strings or only numbers"},
		{`{"a":[{"anything-but":["x",1]}]}`, "a", "not both"},
		{`{"a":[{"anything-but":null}]}`, "a", "anything-but must be"},
		{`{"a":[{"anything-but":{"numeric":[">",1]}}]}`, "a", `unsupported anything-but pattern: "numeric"`},
		{`{"a":[{"anything-but":{"prefix":""}}]}`, "a", "must not be empty"},
		{`{"a":[{"anything-but":{"prefix":["x"]}}]}`, "a", "must be a string"},
		{`{"a":[{"anything-but":{"wildcard":"a**"}}]}`, "a", "consecutive wildcard"},
		{`{"a":[{"anything-but":{"equals-ignore-case":[1]}}]}`, "a", "list of strings"},
		{`{"a":[{"anything-but":{"prefix":"x","suffix":"y"}}]}`, "a", "exactly one key"},
		{`{"$or":[{"a":["x"]}]}`, "", "at least two"},
		{`{"$or":{"a":["x"]}}`, "", "array of patterns"},
		{`{"$or":[{"a":["x"]},"b"]}`, "", "pattern object"},
		{`{"detail":{"$or":[{"a":["x"]},{"b":[]}]}}`, "detail.b", "empty arrays"},
		{`{"a":["` + strings.Repeat("x", MaxPatternLength) + `"]}`, "", "at most 2048"},
	}
	for _, tt := range tests {
		err := ValidatePattern([]byte(tt.pattern))
		var pe *PatternError
		if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPattern) {
			t.Errorf("%.60s: got %v, want a *PatternError", tt.pattern, err)
			continue
		}
		if pe.Path != tt.path || !strings.Contains(pe.Reason, tt.reason) {
			t.Errorf("%.60s: got path %q reason %q; want path %q and a reason containing %q", tt.pattern, pe.Path, pe.Reason, tt.path, tt.reason)
		}
	}
}

func TestPatternErrorMessage(t *testing.T) {
	err := ValidatePattern([]byte(`{"detail":{"group":"service:web"}}`))
	want := `event pattern is not valid: detail.group: "group" must be an object or an array`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// FuzzParsePattern: any input is accepted or refused with a *PatternError,
// never a panic, and what is accepted is a compact JSON object.
func FuzzParsePattern(f *testing.F) {
	for _, seed := range []string{
		`{"source":["berth"],"detail":{"group":[{"prefix":"service:"}]}}`,
		`{"a":[{"anything-but":{"wildcard":["x*","y*"]}}]}`,
		`{"$or":[{"a":[1]},{"b":[{"numeric":[">=",0,"<",1]}]}]}`,
		`{"a":[{"cidr":"2001:db8::/32"}]}`,
		`{"a":[{"wildcard":"\\"}]}`,
		`{"a":{"b":{"c":[null]}}}`,
		`[]`, `{`, `{"a":[{"exists":true}],"a":["x"]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := ParsePattern([]byte(text))
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PatternError", err)
			}
			return
		}
		var obj map[string]any
		if json.Unmarshal(p.JSON, &obj) != nil || len(obj) == 0 {
			t.Fatalf("accepted %q but JSON %q is not a non-empty object", text, p.JSON)
		}
		if len(p.Matchers) == 0 {
			t.Fatalf("accepted %q with no matchers", text)
		}
	})
}
