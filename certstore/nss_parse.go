package certstore

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"strings"
)

// nssCertLine is one row of `certutil -L`.
type nssCertLine struct {
	Nickname string
	Trust    string
}

// parseCertutilL reads `certutil -L -d DB`: a two-line header, then "nickname   trust" rows
// where the nickname may contain spaces and the trust column ("u,u,u", ",,") is last.
func parseCertutilL(out []byte) []nssCertLine {
	var rows []nssCertLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "Certificate Nickname") || strings.HasPrefix(strings.TrimSpace(line), "SSL,S/MIME") {
			continue
		}
		i := strings.LastIndexAny(line, " \t")
		if i < 0 {
			continue
		}
		trust := line[i+1:]
		if strings.Count(trust, ",") != 2 {
			// An empty trust column prints as ",," followed by spaces, which TrimRight ate;
			// anything else is not a certificate row.
			continue
		}
		nick := strings.TrimRight(line[:i], " \t")
		if nick == "" {
			continue
		}
		rows = append(rows, nssCertLine{Nickname: nick, Trust: trust})
	}
	return rows
}

// nssKeyLine is one row of `certutil -K`: "< 0> ec  <key id hex>  nickname".
type nssKeyLine struct {
	Type     string
	ID       string // lower-case hex CKA_ID
	Nickname string // "(orphan)" when no certificate refers to the key
}

func parseCertutilK(out []byte) []nssKeyLine {
	var rows []nssKeyLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "<") {
			continue
		}
		end := strings.Index(line, ">")
		if end < 0 {
			continue
		}
		fields := strings.Fields(line[end+1:])
		if len(fields) < 2 {
			continue
		}
		k := nssKeyLine{Type: fields[0], ID: strings.ToLower(fields[1])}
		if len(fields) > 2 {
			// The nickname is the rest of the line, spaces included.
			rest := strings.TrimSpace(line[end+1:])
			rest = strings.TrimSpace(strings.TrimPrefix(rest, fields[0]))
			k.Nickname = strings.TrimSpace(strings.TrimPrefix(rest, fields[1]))
		}
		rows = append(rows, k)
	}
	return rows
}

// parsePEMCerts returns every certificate in PEM text (`certutil -L -n NICK -a` prints one
// block per certificate carrying that nickname).
func parsePEMCerts(data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return out
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
			out = append(out, c)
		}
	}
}
