// Command notation-blob signs and verifies files (blobs) with detached Notary Project signatures
// through notation-go 1.3.2 and a notation signing plugin, the way notation 2's
// `notation blob sign` / `notation blob verify` do.
//
// notation-go 1.3.2 (the library of notation 1.3.2, packaged by Debian) has no blob API:
// SignBlob, VerifyBlob and the blob trust policy were taken out before v1.3.0 and live only on
// notation-go's main branch (notation 2). This harness builds the same requests from the 1.3.2
// parts that notation 2 uses for them:
//
//   - sign: the plugin comes from notation-go's CLI plugin manager over a plugin directory
//     (<dir>/<name>/notation-<name>); get-plugin-metadata and describe-key are sent with the plugin
//     config, the blob's descriptor is {mediaType (default application/octet-stream), digest with
//     the hash of the key spec, size}, and the PluginSigner signs that descriptor: with a
//     SIGNATURE_GENERATOR.RAW plugin it sends generate-signature and builds the JWS or COSE
//     envelope itself; with a SIGNATURE_GENERATOR.ENVELOPE plugin it sends generate-envelope with
//     the blob descriptor as the payload's targetArtifact (notation-go's blob signing did so until
//     it was changed to refuse such plugins after get-plugin-metadata: "the plugin lacks the
//     signature generator capability required for blob signing"). The envelope is written as the
//     detached signature.
//   - verify: a blob trust policy (trustpolicy.blob.json: policies without registry scopes, one
//     of them may be "globalPolicy") selects the policy by --policy-name or the global one; the
//     signature is verified by notation-go's verifier against the trust store (integrity,
//     authenticity against the named stores, trusted identities, expiry, revocation), and the
//     signed descriptor must equal the file's: same media type, digest (with the signed digest's
//     algorithm) and size.
//
// Usage:
//
//	notation-blob sign --plugin-dir DIR --plugin NAME --id KEY_ID [--signature-format jws|cose]
//	    [--plugin-config k=v]... [--media-type TYPE] [--expiry DURATION] --signature OUT FILE
//	notation-blob verify --trust-store DIR --policy trustpolicy.blob.json [--policy-name NAME]
//	    [--plugin-dir DIR] [--media-type TYPE] --signature SIG FILE
//
// --trust-store is the directory holding truststore/x509/<type>/<name>/, i.e. notation's
// configuration directory. Errors go to stderr with exit status 1; success prints one line.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/plugin"
	"github.com/notaryproject/notation-go/plugin/proto"
	"github.com/notaryproject/notation-go/signer"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	pluginframework "github.com/notaryproject/notation-plugin-framework-go/plugin"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// notation 2's default media type of a blob.
const defaultBlobMediaType = "application/octet-stream"

// The policy names a blob reference below: notation-go 1.3.2's verifier selects trust policies
// by registry scope, so the chosen blob policy gets the wildcard scope and the blob this
// reference (nothing is fetched from it).
const blobScope = "blob.local/blob"

type configFlags map[string]string

func (c configFlags) String() string { return fmt.Sprint(map[string]string(c)) }
func (c configFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("--plugin-config %q is not key=value", v)
	}
	c[k] = val
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: notation-blob sign|verify [flags] FILE"))
	}
	var err error
	switch os.Args[1] {
	case "sign":
		err = sign(os.Args[2:])
	case "verify":
		err = verify(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: use sign or verify", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "Error: %v\n", err)
	os.Exit(1)
}

func envelopeMediaType(format string) (string, error) {
	switch format {
	case "jws":
		return jws.MediaTypeEnvelope, nil
	case "cose":
		return cose.MediaTypeEnvelope, nil
	}
	return "", fmt.Errorf("--signature-format %q: use jws or cose", format)
}

// The descriptor notation 2 signs for a blob: its digest uses algorithm alg.
func blobDescriptor(path, mediaType string, alg digest.Algorithm) (ocispec.Descriptor, error) {
	f, err := os.Open(path)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer f.Close()
	if !alg.Available() {
		return ocispec.Descriptor{}, fmt.Errorf("digest algorithm %q is not available", alg)
	}
	d, err := alg.FromReader(f)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("reading %s: %w", path, err)
	}
	info, err := f.Stat()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: info.Size()}, nil
}

func sign(args []string) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	pluginDir := fs.String("plugin-dir", "", "plugin directory (<dir>/<name>/notation-<name>)")
	name := fs.String("plugin", "", "plugin name")
	keyID := fs.String("id", "", "key id passed to the plugin")
	format := fs.String("signature-format", "jws", "jws or cose")
	mediaType := fs.String("media-type", defaultBlobMediaType, "media type of the blob")
	expiry := fs.Duration("expiry", 0, "signature expiry (0: none)")
	out := fs.String("signature", "", "where the detached signature goes")
	config := configFlags{}
	fs.Var(config, "plugin-config", "plugin config key=value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *pluginDir == "" || *name == "" || *keyID == "" || *out == "" {
		return errors.New("sign needs --plugin-dir, --plugin, --id, --signature and one FILE")
	}
	sigMediaType, err := envelopeMediaType(*format)
	if err != nil {
		return err
	}
	ctx := context.Background()
	p, err := plugin.NewCLIManager(dir.NewSysFS(*pluginDir)).Get(ctx, *name)
	if err != nil {
		return fmt.Errorf("plugin %q: %w", *name, err)
	}
	// The blob's digest uses the hash of the signing key, which describe-key reports.
	described, err := p.DescribeKey(ctx, &pluginframework.DescribeKeyRequest{
		ContractVersion: pluginframework.ContractVersion,
		KeyID:           *keyID,
		PluginConfig:    config,
	})
	if err != nil {
		return fmt.Errorf("describe-key: %w", err)
	}
	keySpec, err := proto.DecodeKeySpec(described.KeySpec)
	if err != nil {
		return err
	}
	hash, err := proto.HashAlgorithmFromKeySpec(keySpec)
	if err != nil {
		return err
	}
	alg := map[pluginframework.HashAlgorithm]digest.Algorithm{
		pluginframework.HashAlgorithmSHA256: digest.SHA256,
		pluginframework.HashAlgorithmSHA384: digest.SHA384,
		pluginframework.HashAlgorithmSHA512: digest.SHA512,
	}[hash]
	desc, err := blobDescriptor(fs.Arg(0), *mediaType, alg)
	if err != nil {
		return err
	}
	s, err := signer.NewPluginSigner(p, *keyID, config)
	if err != nil {
		return err
	}
	sig, _, err := s.Sign(ctx, desc, notation.SignerSignOptions{
		SignatureMediaType: sigMediaType,
		ExpiryDuration:     *expiry,
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, sig, 0o644); err != nil {
		return err
	}
	fmt.Printf("Successfully signed %s (%s); signature written to %s\n", fs.Arg(0), desc.Digest, *out)
	return nil
}

// A statement of trustpolicy.blob.json: an OCI statement without registry scopes, which may be
// the global policy.
type blobPolicy struct {
	Name                  string                            `json:"name"`
	SignatureVerification trustpolicy.SignatureVerification `json:"signatureVerification"`
	TrustStores           []string                          `json:"trustStores"`
	TrustedIdentities     []string                          `json:"trustedIdentities"`
	GlobalPolicy          bool                              `json:"globalPolicy"`
}

type blobPolicyDocument struct {
	Version       string       `json:"version"`
	TrustPolicies []blobPolicy `json:"trustPolicies"`
}

// The OCI trust policy document the verifier applies: the blob policy named `name`, or the
// global one when name is empty.
func loadBlobPolicy(path, name string) (*trustpolicy.Document, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc blobPolicyDocument
	decoder := json.NewDecoder(strings.NewReader(string(raw)))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&doc); err != nil {
		return nil, fmt.Errorf("blob trust policy %s: %w", path, err)
	}
	var chosen *blobPolicy
	for i, p := range doc.TrustPolicies {
		if (name != "" && p.Name == name) || (name == "" && p.GlobalPolicy) {
			if chosen != nil {
				return nil, fmt.Errorf("blob trust policy %s: more than one statement matches", path)
			}
			chosen = &doc.TrustPolicies[i]
		}
	}
	if chosen == nil {
		if name == "" {
			return nil, fmt.Errorf("blob trust policy %s has no globalPolicy statement; pass --policy-name", path)
		}
		return nil, fmt.Errorf("blob trust policy %s has no statement named %q", path, name)
	}
	policy := &trustpolicy.Document{
		Version: doc.Version,
		TrustPolicies: []trustpolicy.TrustPolicy{{
			Name:                  chosen.Name,
			RegistryScopes:        []string{"*"},
			SignatureVerification: chosen.SignatureVerification,
			TrustStores:           chosen.TrustStores,
			TrustedIdentities:     chosen.TrustedIdentities,
		}},
	}
	if err := policy.Validate(); err != nil {
		return nil, fmt.Errorf("blob trust policy %s: %w", path, err)
	}
	return policy, nil
}

func verify(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	trustStore := fs.String("trust-store", "", "directory holding truststore/x509/…")
	policyPath := fs.String("policy", "", "blob trust policy (trustpolicy.blob.json)")
	policyName := fs.String("policy-name", "", "policy statement (default: the global policy)")
	pluginDir := fs.String("plugin-dir", "", "plugin directory for verification plugins")
	mediaType := fs.String("media-type", "", "expected media type of the blob (default: the signed one)")
	sigPath := fs.String("signature", "", "the detached signature")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *trustStore == "" || *policyPath == "" || *sigPath == "" {
		return errors.New("verify needs --trust-store, --policy, --signature and one FILE")
	}
	sig, err := os.ReadFile(*sigPath)
	if err != nil {
		return err
	}
	// notation 2 tells the envelope type by the signature file's extension; here by its
	// content: JWS is JSON.
	sigMediaType := cose.MediaTypeEnvelope
	if strings.HasPrefix(strings.TrimSpace(string(sig)), "{") {
		sigMediaType = jws.MediaTypeEnvelope
	}
	envelope, err := signature.ParseEnvelope(sigMediaType, sig)
	if err != nil {
		return fmt.Errorf("signature %s: %w", *sigPath, err)
	}
	content, err := envelope.Content()
	if err != nil {
		return fmt.Errorf("signature %s: %w", *sigPath, err)
	}
	var payload struct {
		TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
	}
	if err := json.Unmarshal(content.Payload.Content, &payload); err != nil {
		return fmt.Errorf("signature %s: payload: %w", *sigPath, err)
	}
	want := payload.TargetArtifact.MediaType
	if *mediaType != "" {
		want = *mediaType
	}
	desc, err := blobDescriptor(fs.Arg(0), want, payload.TargetArtifact.Digest.Algorithm())
	if err != nil {
		return err
	}
	policy, err := loadBlobPolicy(*policyPath, *policyName)
	if err != nil {
		return err
	}
	var manager plugin.Manager
	if *pluginDir != "" {
		manager = plugin.NewCLIManager(dir.NewSysFS(*pluginDir))
	}
	v, err := verifier.New(policy, truststore.NewX509TrustStore(dir.NewSysFS(*trustStore)), manager)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	outcome, err := v.Verify(ctx, desc, sig, notation.VerifierVerifyOptions{
		ArtifactReference:  blobScope + "@" + desc.Digest.String(),
		SignatureMediaType: sigMediaType,
	})
	if err != nil {
		return fmt.Errorf("signature verification failed for %s: %w", filepath.Base(fs.Arg(0)), err)
	}
	for _, r := range outcome.VerificationResults {
		if r.Error != nil {
			fmt.Fprintf(os.Stderr, "Warning: %s %s: %v\n", r.Type, r.Action, r.Error)
		}
	}
	fmt.Printf("Successfully verified signature for %s (%s) with policy %q\n",
		fs.Arg(0), desc.Digest, policy.TrustPolicies[0].Name)
	return nil
}
