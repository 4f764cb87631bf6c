package bolt

import (
	"bytes"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"
)

// Check verifies the file: bbolt's own page structure, then that the
// indexes and the ttl bucket hold exactly the entries the items call for
// and that every change record decodes. It reads the whole file, so it is
// for tests and repair tools, not for a hot path.
func (s *Store) Check() error {
	return s.view(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("bbolt structure: %w", errors.Join(errs...))
		}
		return checkDerivedBuckets(tx)
	})
}

func checkDerivedBuckets(tx *bbolt.Tx) error {
	want := map[string]map[string]bool{"gsi1": {}, "gsi2": {}, "ttl": {}}
	err := tx.Bucket(bucketItems).ForEach(func(k, v []byte) error {
		it, err := decodeItem(v)
		if err != nil {
			return fmt.Errorf("item %x: %w", k, err)
		}
		if !bytes.Equal(k, itemKey(it.Key)) {
			return fmt.Errorf("item %s stored under key %x", it.Key, k)
		}
		for name, entry := range map[string][]byte{
			"gsi1": indexEntry(it.GSI1, it.Key),
			"gsi2": indexEntry(it.GSI2, it.Key),
			"ttl":  ttlEntry(it),
		} {
			if entry != nil {
				want[name][string(entry)] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for name, entries := range want {
		if err := checkEntries(tx.Bucket([]byte(name)), name, entries); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketChanges).ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("change record %x: %w", k, errCorruptKey)
		}
		if _, err := decodeChange(v); err != nil {
			return fmt.Errorf("change record %x: %w", k, err)
		}
		return nil
	})
}

// checkEntries compares a derived bucket with the entries the items call for.
func checkEntries(b *bbolt.Bucket, name string, want map[string]bool) error {
	n := 0
	err := b.ForEach(func(k, _ []byte) error {
		if !want[string(k)] {
			return fmt.Errorf("%s holds entry %x that no item calls for", name, k)
		}
		n++
		return nil
	})
	if err != nil {
		return err
	}
	if n != len(want) {
		return fmt.Errorf("%s holds %d entries; the items call for %d", name, n, len(want))
	}
	return nil
}
