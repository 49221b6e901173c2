package main

import "testing"

func TestSizeLive(t *testing.T) {
	tests := []struct {
		name                 string
		records              [][2]string // key, value ("<nil>" is a tombstone)
		wantKeys, wantLive   int
		wantBytes, wantLiveB int64
	}{
		{"empty", nil, 0, 0, 0, 0},
		{"newest value counts", [][2]string{{"a", "xxxx"}, {"a", "yy"}}, 1, 1, 1 + 4 + 1 + 2, 2},
		{"tombstone removes", [][2]string{{"a", "xxxx"}, {"b", "z"}, {"a", "<nil>"}}, 2, 1, 5 + 2 + 1, 1},
		{"re-created after tombstone", [][2]string{{"a", "x"}, {"a", "<nil>"}, {"a", "abc"}}, 1, 1, 2 + 1 + 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := size{newest: map[string]int{}}
			for _, r := range tt.records {
				var v []byte
				if r[1] != "<nil>" {
					v = []byte(r[1])
				}
				s.add([]byte(r[0]), v)
			}
			keys, live := s.live()
			if len(s.newest) != tt.wantKeys || keys != tt.wantLive || s.bytes != tt.wantBytes || live != tt.wantLiveB {
				t.Errorf("keys %d, live keys %d, bytes %d, live bytes %d; want %d, %d, %d, %d",
					len(s.newest), keys, s.bytes, live, tt.wantKeys, tt.wantLive, tt.wantBytes, tt.wantLiveB)
			}
		})
	}
}
