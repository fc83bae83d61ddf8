package esxi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator/sim25"

	"github.com/planetstage/planetstage/esxi"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		url     string
		env     map[string]string
		want    esxi.Config
		wantErr string
	}{
		{name: "explicit URL wins over GOVC_URL", url: "https://esxi1/sdk",
			env:  map[string]string{"GOVC_URL": "other", "GOVC_USERNAME": "root", "GOVC_PASSWORD": "pw"},
			want: esxi.Config{URL: "https://esxi1/sdk", Username: "root", Password: "pw"}},
		{name: "GOVC_URL and insecure", env: map[string]string{"GOVC_URL": "10.4.0.13", "GOVC_INSECURE": "1", "GOVC_DATASTORE": "ds1"},
			want: esxi.Config{URL: "10.4.0.13", Insecure: true, Datastore: "ds1"}},
		{name: "insecure false", env: map[string]string{"GOVC_INSECURE": "false"}, want: esxi.Config{}},
		{name: "bad insecure", env: map[string]string{"GOVC_INSECURE": "yes please"}, wantErr: "GOVC_INSECURE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := esxi.ConfigFromEnv(tt.url, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNormaliseThumbprint(t *testing.T) {
	t.Parallel()
	const colon = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
	tests := []struct{ in, want, wantErr string }{
		{in: "", want: ""},
		{in: colon, want: colon},
		{in: strings.ToLower(strings.ReplaceAll(colon, ":", "")), want: colon},
		{in: "AB:CD", wantErr: "not a SHA-256"},
		{in: colon[:59], wantErr: "not a SHA-256"}, // a SHA-1 length pin
		{in: strings.Repeat("ZZ", 32), wantErr: "not a SHA-256"},
	}
	for _, tt := range tests {
		got, err := esxi.NormaliseThumbprint(tt.in)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got)
	}
}

func TestConnectTLS(t *testing.T) {
	t.Parallel()
	h := newSimHost(t, false)
	wrong := strings.Repeat("AB:", 31) + "AB"
	tests := []struct {
		name    string
		mutate  func(*esxi.Config)
		wantErr string
	}{
		{name: "pinned thumbprint", mutate: func(*esxi.Config) {}},
		{name: "pin without colons, lower case", mutate: func(c *esxi.Config) {
			c.Thumbprint = strings.ToLower(strings.ReplaceAll(c.Thumbprint, ":", ""))
		}},
		{name: "verified by default: self-signed fails", mutate: func(c *esxi.Config) { c.Thumbprint = "" },
			wantErr: "certificate"},
		{name: "wrong pin fails", mutate: func(c *esxi.Config) { c.Thumbprint = wrong }, wantErr: "thumbprint does not match"},
		{name: "wrong pin fails even with insecure", mutate: func(c *esxi.Config) { c.Thumbprint = wrong; c.Insecure = true },
			wantErr: "thumbprint does not match"},
		{name: "insecure", mutate: func(c *esxi.Config) { c.Thumbprint = ""; c.Insecure = true }},
		{name: "credentials from URL", mutate: func(c *esxi.Config) { c.URL = h.userURL(); c.Username = ""; c.Password = "" }},
		{name: "no user", mutate: func(c *esxi.Config) { c.Username = "" }, wantErr: "no user name"},
		{name: "no URL", mutate: func(c *esxi.Config) { c.URL = "" }, wantErr: "no URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := h.config()
			tt.mutate(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := esxi.Connect(ctx, cfg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.NotContains(t, err.Error(), "not-a-secret", "password leaked into the error")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, strings.TrimPrefix(strings.TrimSuffix(h.URL, "/sdk"), "https://"), c.Host())
			require.NoError(t, c.Close(ctx))
		})
	}
}

func TestConnectErrorHidesPassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens, the dial fails at once.
	_, err := esxi.Connect(ctx, esxi.Config{URL: "https://root:hunter2@127.0.0.1:1/sdk"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "127.0.0.1:1")
	assert.NotContains(t, err.Error(), "hunter2")
}

// TestSessionExpiry makes the simulator expire idle sessions after 300 ms.
// Without keepalive the session dies and the next operation logs in again;
// with a 100 ms keepalive it never dies.
func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	for _, keepAlive := range []bool{false, true} {
		t.Run(map[bool]string{false: "re-login", true: "keepalive"}[keepAlive], func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			h := newSimHost(t, false)
			cfg := h.config()
			cfg.KeepAlive = -1
			if keepAlive {
				cfg.KeepAlive = 100 * time.Millisecond
			}
			setup := h.connect(t)
			require.NoError(t, sim25.SetSessionTimeout(ctx, setup.Vim(), 300*time.Millisecond))

			c, err := esxi.Connect(ctx, cfg)
			require.NoError(t, err)
			defer func() { _ = c.Close(ctx) }()
			esxi.SetSessionCheckInterval(c, 0)

			time.Sleep(900 * time.Millisecond)
			s, err := session.NewManager(c.Vim()).UserSession(ctx)
			require.NoError(t, err)
			if keepAlive {
				assert.NotNil(t, s, "keepalive should have kept the session")
			} else {
				require.Nil(t, s, "the session should have expired")
			}
			_, err = c.PortGroups(ctx)
			require.NoError(t, err, "operation after idle period")
			s, err = session.NewManager(c.Vim()).UserSession(ctx)
			require.NoError(t, err)
			assert.NotNil(t, s, "logged in after the operation")
		})
	}
}
