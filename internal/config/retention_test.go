package config

import (
	"strings"
	"testing"
	"time"
)

func TestRetentionSettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.Retention != 720*time.Hour || c.PayloadRetention != c.Retention || c.MaintenanceInterval != time.Hour {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = Load(env(map[string]string{"HOOKRELAY_RETENTION": "2160h"}))
	if err != nil || c.PayloadRetention != 2160*time.Hour {
		t.Fatalf("payload retention follows retention: %v %v", c.PayloadRetention, err)
	}
	c, err = Load(env(map[string]string{"HOOKRELAY_PAYLOAD_RETENTION": "72h"}))
	if err != nil || c.PayloadRetention != 72*time.Hour || c.Retention != 720*time.Hour {
		t.Fatalf("shorter payload retention: %+v %v", c, err)
	}
	for k, v := range map[string]string{"HOOKRELAY_RETENTION": "12h", "HOOKRELAY_PAYLOAD_RETENTION": "1000h"} {
		if _, err := Load(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}
