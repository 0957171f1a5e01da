// Package configs is hookgate's configuration schema: the types of SPEC §2–§6,
// loading YAML files or directories with ${ENV} expansion, defaults,
// strict keys and cross-references, and errors that name FILE:LINE: path.
package configs

import "time"

// Size is a number of bytes, written in YAML as 512KiB, 10MiB, 1GiB or plain bytes.
type Size int64

// Rate is N events per Per (written N/s, N/m or N/h); the zero Rate means unlimited.
type Rate struct {
	N   int
	Per time.Duration
}

// Pos is where a list element was defined, for error messages after loading.
type Pos struct {
	File string
	Line int
}

// Config is one whole, loaded configuration.
type Config struct {
	Server       Server
	Admin        Admin
	Log          Log
	NATS         NATS
	Tracing      Tracing
	AuthProfiles []AuthProfile
	Webhooks     []Webhook
	Incoming     []Incoming
	Outgoing     []Outgoing
	Routes       []Route
}

// Server is the public listener.
type Server struct {
	Listen            string        // default ":8080"
	MaxBody           Size          // default 10MiB
	ReadHeaderTimeout time.Duration // default 10s
	ReadTimeout       time.Duration // default 60s
	ShutdownTimeout   time.Duration // default 30s
	SpoolDir          string        // default "" = os.TempDir()
	SpoolMax          Size          // default 1GiB: spooled bodies at once; past it 503 busy
	MaxConcurrent     int           // default 1024: requests in flight; past it 503 busy
	// MemoryLimit is Go's soft memory limit, set at serve start; 0 = none.
	// Default: EmbeddedMemoryLimit with the embedded server, none with nats.url.
	MemoryLimit Size
}

// Admin is the operator listener.
type Admin struct {
	Listen string // default "127.0.0.1:8081"; "" disables
	Token  string // secret
}

// Log configures zap.
type Log struct {
	Level  string // debug, info (default), warn, error
	Format string // json (default) or console
}

// Tracing says where spans are exported (SPEC §12). With no endpoint here
// or in OTEL_EXPORTER_OTLP_ENDPOINT nothing is exported, and tasks and
// deliveries still carry their W3C traceparent.
type Tracing struct {
	OTLPEndpoint string  // OTLP/HTTP base URL; spans go to <base>/v1/traces
	SampleRatio  float64 // default 1: the share of new traces recorded
}

// NATS says where tasks are stored: an embedded server when URL is empty.
type NATS struct {
	URL            string
	CredsFile      string
	User           string
	Password       string // secret
	Token          string // secret
	NKeyFile       string
	TLS            TLS
	Embedded       Embedded
	Stream         Stream
	PublishTimeout time.Duration // default 5s
	// ConnectTimeout bounds how long serve waits for an external NATS it
	// cannot reach at start; 0 (the default) waits for ever.
	ConnectTimeout time.Duration
}

// TLS holds client TLS files for an external NATS.
type TLS struct {
	CAFile   string
	CertFile string
	KeyFile  string
}

// Embedded configures the in-process nats-server.
type Embedded struct {
	Listen     string // default "127.0.0.1:4222"; "" = in-process only
	StoreDir   string // default "data/nats"
	MaxPayload Size   // default 8MiB
	Auth       EmbeddedAuth
	Sync       string // SyncInterval (default) or SyncAlways
}

// EmbeddedAuth is what clients of the embedded server must present: a
// token, or a user and password. Required when Listen is not loopback.
type EmbeddedAuth struct {
	Token    string // secret
	User     string
	Password string // secret
}

// Stream configures the task stream, created or updated at start.
type Stream struct {
	Name       string        // default HOOKGATE_TASKS
	MaxAge     time.Duration // default 168h
	Replicas   int           // default 1
	Duplicates time.Duration // default 2m
}

// Webhook is one inbound endpoint, /webhooks/<Identifier>.
type Webhook struct {
	Pos                Pos
	Name               string
	Identifier         string // default: slug of Name
	Description        string
	Disabled           bool
	Incoming           string
	AdditionalIncoming []string
	Logging            bool
	Methods            []string // default [POST]
	MaxBody            Size     // default Server.MaxBody
	RateLimit          Rate
	DedupKey           string // header:NAME | body:PATH | body_hash | "" (the preset default)
	ForwardHeaders     []string
	PreProcessors      []PreProcessor
	PostProcessors     []PostProcessor
}

// PreProcessor is a one-key map: exactly one field is set.
type PreProcessor struct {
	HeaderSecret *HeaderSecret
	BasicAuth    *BasicAuth
	IPAllowlist  *IPAllowlist
	HMAC         *HMAC
}

// Kind is the entry's key (header_secret, basic_auth, ip_allowlist or
// hmac): the validator label of hookgate_validation_failures_total and the
// kind the admin API shows.
func (p PreProcessor) Kind() string {
	switch {
	case p.HeaderSecret != nil:
		return "header_secret"
	case p.BasicAuth != nil:
		return "basic_auth"
	case p.IPAllowlist != nil:
		return "ip_allowlist"
	case p.HMAC != nil:
		return "hmac"
	}
	return "unknown"
}

// HeaderSecret passes when Header equals Prefix + one of the secrets.
type HeaderSecret struct {
	Header  string
	Prefix  string
	Secret  string
	Secrets []string
}

// BasicAuth passes on HTTP basic credentials; Passwords allows rotation.
type BasicAuth struct {
	Username  string
	Password  string
	Passwords []string
}

// IPAllowlist passes when the client address is inside CIDRs;
// X-Forwarded-For is believed only from TrustedProxies.
type IPAllowlist struct {
	CIDRs          []string
	TrustedProxies []string
}

// HMAC is a signature check: a Preset, or the generic keys. Also used for
// signing outgoing requests.
type HMAC struct {
	Preset          string // github, github_sha1, stripe, shopify, slack, standard_webhooks, gitlab, twilio
	Secret          string
	Secrets         []string
	Header          string
	Algorithm       string // sha1 | sha256 | sha512
	Encoding        string // hex | base64
	Prefix          string
	SignedPayload   string // default "{body}"
	TimestampHeader string
	IDHeader        string
	Tolerance       time.Duration
	PublicURL       string // twilio
}

// AllSecrets returns Secret and Secrets together, Secret first.
func (h HMAC) AllSecrets() []string { return joinSecrets(h.Secret, h.Secrets) }

// AllSecrets returns Secret and Secrets together, Secret first.
func (h HeaderSecret) AllSecrets() []string { return joinSecrets(h.Secret, h.Secrets) }

// AllPasswords returns Password and Passwords together, Password first.
func (b BasicAuth) AllPasswords() []string { return joinSecrets(b.Password, b.Passwords) }

func joinSecrets(one string, many []string) []string {
	out := make([]string, 0, len(many)+1)
	if one != "" {
		out = append(out, one)
	}
	return append(out, many...)
}

// PostProcessor is a one-key map run after every task is acknowledged.
type PostProcessor struct {
	Respond *Respond
}

// Respond replaces the 200 response; {request_id} and {tasks} are substituted in Body.
type Respond struct {
	Status      int    // default 200
	ContentType string // default application/json
	Body        string
}

// Incoming is a parser configuration: how a body becomes items, and where they go.
type Incoming struct {
	Pos            Pos
	Name           string
	Parser         string // auto (default) | json | xml | form | csv | raw
	ReadMethod     string // full (default) | incremental
	PatternToItems string
	OnEmpty        string // reject (default) | accept
	MaxItems       int    // default 100000
	MaxItemsBytes  Size   // 0 (default) = 4 x the max_body of the webhook using it
	Subject        string // default tasks.<name>
	Type           string // default hookgate.<name>
	XML            XMLOptions
	Form           FormOptions
	CSV            CSVOptions
}

// XMLOptions tune the XML parser.
type XMLOptions struct{ Cast bool }

// FormOptions tune the form parser.
type FormOptions struct{ JSONField string }

// CSVOptions tune the CSV parser.
type CSVOptions struct{ Delimiter string } // default ","

// Route moves tasks of one incoming configuration to outgoing configurations.
type Route struct {
	Pos       Pos
	Name      string
	Incoming  string
	Filter    []Condition
	Transform []Transform
	Outgoing  []string
	Disabled  bool
}

// Condition is one filter test: a gjson path with exactly one operator, or
// a CEL expression alone (SPEC §12). Scalars are kept as written in YAML
// (equals: 5 is "5") and compared with the gjson result's String(); GT and
// LT compare numbers.
type Condition struct {
	CEL       string // a CEL expression yielding bool; set without path or operator
	Path      string
	Equals    *string
	NotEquals *string
	In        []string
	Matches   string // a Go regexp, checked at load
	Exists    *bool
	GT        *float64
	LT        *float64
}

// Transform is one step; exactly one field is set. Keys keep their YAML order.
type Transform struct {
	Map    []KeyValue // new key -> gjson path on the current item
	Set    []KeyJSON  // key (sjson path) -> constant
	Rename []KeyValue // old key -> new key
	Remove []string
	JQ     string // a jq program yielding exactly one value (SPEC §12)
}

// KeyValue is one ordered string mapping.
type KeyValue struct{ Key, Value string }

// KeyJSON is one ordered mapping to a constant, held as JSON.
type KeyJSON struct {
	Key  string
	JSON []byte
}

// Outgoing is one HTTP destination.
type Outgoing struct {
	Pos                  Pos
	Name                 string
	URL                  string
	Method               string // default POST
	Format               string // json (default) | xml
	RootElement          string // xml; default "item"
	Headers              []KeyValue
	Auth                 string        // an auth profile name
	Signing              *HMAC         // preset standard_webhooks | github, or generic keys
	Timeout              time.Duration // default 10s
	RateLimit            Rate
	Concurrency          int  // default 8
	Ordered              bool // true: one at a time, in order
	Retry                Retry
	Circuit              Circuit
	AllowPrivateNetworks bool
}

// Circuit is the circuit breaker of each (route, outgoing) pair that
// delivers to an outgoing configuration (SPEC §12). In code, a zero Circuit
// takes the defaults (WithDefaults); set OpenFor too to keep Failures 0.
type Circuit struct {
	Failures   int           // failed attempts in a row that open it; default 10, 0 turns it off
	OpenFor    time.Duration // the first open window; default 30s
	MaxOpenFor time.Duration // the window doubles up to this while probes fail; default 10m
}

// Retry bounds delivery attempts.
type Retry struct {
	MaxAttempts     int           // default 12
	InitialInterval time.Duration // default 1s
	MaxInterval     time.Duration // default 15m
}

// AuthProfile is credentials for outgoing requests, only ever sent to AllowedDomains.
type AuthProfile struct {
	Pos            Pos
	Name           string
	Type           string // basic | bearer | header | oauth2_client_credentials
	Username       string
	Password       string // secret
	Token          string // secret
	Header         string
	Value          string // secret
	ClientID       string
	ClientSecret   string // secret
	Scope          string // space-separated scopes
	TokenURL       string
	AllowedDomains []string
}
