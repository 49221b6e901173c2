package processor

import (
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"github.com/lovoo/goka/storage"
	"github.com/syndtr/goleveldb/leveldb"
)

// tableStorage builds stage 2's LevelDB storages under dir, one per table partition (the layout
// of Goka's storage.DefaultBuilder), and reports any failure to open or write one to fail: a
// full, read-only or broken disk is not a Kafka fault to wait out, and restarting the processor
// would only fail again. Run exits with the error instead, naming the state directory.
func tableStorage(dir string, fail func(error)) storage.Builder {
	return func(topic string, partition int32) (storage.Storage, error) {
		path := filepath.Join(dir, fmt.Sprintf("%s.%d", topic, partition))
		db, err := leveldb.OpenFile(path, nil)
		if err != nil {
			hint := ""
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) {
				hint = " (another process holds it: give every instance a --state-dir of its own)"
			}
			err = fmt.Errorf("%w: open %s%s: %w", ErrStateDir, path, hint, err)
			fail(err)
			return nil, err
		}
		st, err := storage.New(db)
		if err != nil {
			db.Close()
			return nil, err
		}
		return &failingStorage{Storage: st, path: path, fail: fail}, nil
	}
}

// failingStorage reports write errors of a storage to fail.
type failingStorage struct {
	storage.Storage
	path string
	fail func(error)
}

func (s *failingStorage) check(op string, err error) error {
	if err != nil {
		err = fmt.Errorf("%w: %s %s: %w", ErrStateDir, op, s.path, err)
		s.fail(err)
	}
	return err
}

func (s *failingStorage) Set(key string, value []byte) error {
	return s.check("write", s.Storage.Set(key, value))
}

func (s *failingStorage) Delete(key string) error {
	return s.check("delete in", s.Storage.Delete(key))
}

func (s *failingStorage) SetOffset(offset int64) error {
	return s.check("write the offset of", s.Storage.SetOffset(offset))
}
