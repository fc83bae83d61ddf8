package vyos

import (
	"strings"

	"github.com/planetstage/planetstage/secret"
)

// Command is one configuration command: "set" or "delete" and the path of
// tokens after it.
type Command struct {
	Delete bool
	Path   []string
	// Secret marks a command whose last token is key material; it is shown
	// as <redacted> by Redacted. A command on a secret path (a private key,
	// a shared secret, a password) is redacted whether marked or not: see
	// IsSecret.
	Secret bool
	// Quoted makes String quote the last token even when it needs no
	// quotes, so long values render the same whatever their characters.
	Quoted bool
}

func set(path ...string) Command       { return Command{Path: path} }
func setQuoted(path ...string) Command { return Command{Path: path, Quoted: true} }
func setSecret(path ...string) Command { return Command{Path: path, Secret: true, Quoted: true} }

// String renders the command as VyOS's CLI takes it, quoting tokens that
// need it. It contains secrets in clear; see Redacted.
func (c Command) String() string { return c.render(false) }

// Redacted is String with key material replaced by <redacted>.
func (c Command) Redacted() string { return c.render(true) }

func (c Command) render(redact bool) string {
	var b strings.Builder
	if c.Delete {
		b.WriteString("delete")
	} else {
		b.WriteString("set")
	}
	for i, tok := range c.Path {
		b.WriteByte(' ')
		if redact && i == len(c.Path)-1 && c.IsSecret() {
			b.WriteString("'" + secret.Redacted + "'")
			continue
		}
		if c.Quoted && i == len(c.Path)-1 {
			b.WriteString("'" + tok + "'")
			continue
		}
		b.WriteString(quote(tok))
	}
	return b.String()
}

// key is the command's identity for diffs: its tokens, unquoted, with
// fingerprints in upper case (VyOS may store them in either case).
func (c Command) key() string {
	toks := make([]string, len(c.Path))
	for i, t := range c.Path {
		if fingerprint(t) {
			t = strings.ToUpper(t)
		}
		toks[i] = t
	}
	return strings.Join(toks, " ")
}

// quote single-quotes tok unless it is made only of characters that need no
// quoting in vbash. VyOS values never contain a single quote.
func quote(tok string) string {
	if tok != "" && strings.Trim(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@,") == "" {
		return tok
	}
	return "'" + tok + "'"
}

// ParseCommands parses "show configuration commands" output into commands.
// It undoes VyOS's quoting (leaf values are single-quoted, tag values are
// not), so commands compare by their tokens. Lines that are not "set"
// commands are ignored.
func ParseCommands(out string) []Command {
	var cmds []Command
	for _, line := range strings.Split(out, "\n") {
		toks := tokenize(strings.TrimSpace(line))
		if len(toks) < 2 || toks[0] != "set" {
			continue
		}
		cmds = append(cmds, Command{Path: toks[1:]})
	}
	return cmds
}

// tokenize splits a line on blanks, keeping single-quoted tokens whole.
func tokenize(line string) []string {
	var toks []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			inQuote = !inQuote
			have = true
		case (r == ' ' || r == '\t') && !inQuote:
			if have {
				toks = append(toks, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		toks = append(toks, cur.String())
	}
	return toks
}
