package policy

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"klppo/internal/fileio"
	"klppo/nn"
)

// Checkpoint file format (version 1), all integers little-endian:
//
//	offset 0   8 bytes   magic "KLPPOCK\x00"
//	offset 8   uint32    format version (1)
//	offset 12  uint32    header length H
//	offset 16  H bytes   header, JSON: {"policy": Config, "arrays": [{"name", "len"}...], "meta": any}
//	           …         the arrays' values in header order, each as len float64s
//	last 4     uint32    CRC-32 (IEEE) of every preceding byte
//
// The arrays are the actor-critic's parameters (names from ActorCritic.ParamNames, values in
// the tensors' row-major order, widened to float64) followed by any extra arrays the trainer
// stores (Adam moments, …). "meta" is opaque JSON owned by the trainer (its config, counters,
// RNG states, normaliser statistics). A file is written to a temporary name and renamed, so a
// reader never sees a half-written checkpoint.
const (
	checkpointMagic   = "KLPPOCK\x00"
	checkpointVersion = 1
)

// ErrCorrupt is wrapped by ReadCheckpoint's error when a file is not a valid checkpoint
// (wrong magic, unsupported version, truncated, bad checksum, malformed header).
var ErrCorrupt = errors.New("corrupt checkpoint")

// ErrMismatch is wrapped when a checkpoint does not fit the model it is loaded into.
var ErrMismatch = errors.New("checkpoint does not match the model")

// Array is a named vector of float64 values stored in a checkpoint.
type Array struct {
	Name   string
	Values []float64
}

type arrayHeader struct {
	Name string `json:"name"`
	Len  int    `json:"len"`
}

type fileHeader struct {
	Policy Config          `json:"policy"`
	Arrays []arrayHeader   `json:"arrays"`
	Meta   json.RawMessage `json:"meta,omitempty"`
}

// Checkpoint is the decoded content of a checkpoint file.
type Checkpoint struct {
	Policy Config
	Arrays []Array // parameters first (ParamNames order), then extras
	Meta   json.RawMessage
}

// Array returns the array named name, or nil.
func (c *Checkpoint) Array(name string) []float64 {
	for _, a := range c.Arrays {
		if a.Name == name {
			return a.Values
		}
	}
	return nil
}

// Snapshot returns a checkpoint of ac's current parameters plus extra arrays and meta.
func (ac *ActorCritic) Snapshot(extra []Array, meta any) (*Checkpoint, error) {
	c := &Checkpoint{Policy: ac.cfg}
	names := ac.ParamNames()
	for i, p := range ac.Params() {
		c.Arrays = append(c.Arrays, Array{Name: names[i], Values: nn.Float64s(p, nil)})
	}
	c.Arrays = append(c.Arrays, extra...)
	if meta != nil {
		b, err := json.Marshal(meta)
		if err != nil {
			return nil, fmt.Errorf("policy: checkpoint meta: %w", err)
		}
		c.Meta = b
	}
	return c, nil
}

// WriteCheckpoint writes c to path atomically (fileio.WriteAtomic).
func WriteCheckpoint(path string, c *Checkpoint) error {
	h := fileHeader{Policy: c.Policy, Meta: c.Meta}
	for _, a := range c.Arrays {
		h.Arrays = append(h.Arrays, arrayHeader{Name: a.Name, Len: len(a.Values)})
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("policy: checkpoint header: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString(checkpointMagic)
	var u4 [4]byte
	binary.LittleEndian.PutUint32(u4[:], checkpointVersion)
	buf.Write(u4[:])
	binary.LittleEndian.PutUint32(u4[:], uint32(len(hb)))
	buf.Write(u4[:])
	buf.Write(hb)
	var u8 [8]byte
	for _, a := range c.Arrays {
		for _, v := range a.Values {
			binary.LittleEndian.PutUint64(u8[:], math.Float64bits(v))
			buf.Write(u8[:])
		}
	}
	binary.LittleEndian.PutUint32(u4[:], crc32.ChecksumIEEE(buf.Bytes()))
	buf.Write(u4[:])
	if err := fileio.WriteAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("policy: write checkpoint: %w", err)
	}
	return nil
}

// ReadCheckpoint reads and verifies a checkpoint file. Errors for invalid files wrap ErrCorrupt.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	data, err := fileio.ReadFile(path, fileio.LargeFile)
	if err != nil {
		return nil, fmt.Errorf("policy: read checkpoint: %w", err)
	}
	c, err := DecodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("policy: checkpoint %s: %w", path, err)
	}
	return c, nil
}

// DecodeCheckpoint decodes the bytes of a checkpoint file (see WriteCheckpoint).
func DecodeCheckpoint(data []byte) (*Checkpoint, error) {
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, a...))
	}
	if len(data) < 20 || string(data[:8]) != checkpointMagic {
		return nil, corrupt("not a klppo checkpoint (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(data[8:12]); v != checkpointVersion {
		return nil, corrupt("format version %d, this build reads version %d", v, checkpointVersion)
	}
	body := data[:len(data)-4]
	if want, got := binary.LittleEndian.Uint32(data[len(data)-4:]), crc32.ChecksumIEEE(body); want != got {
		return nil, corrupt("checksum mismatch (file is truncated or damaged)")
	}
	hl := int(binary.LittleEndian.Uint32(data[12:16]))
	if hl < 0 || 16+hl > len(body) {
		return nil, corrupt("header length %d exceeds the file", hl)
	}
	var h fileHeader
	if err := json.Unmarshal(body[16:16+hl], &h); err != nil {
		return nil, corrupt("header: %v", err)
	}
	rest := body[16+hl:]
	total := 0
	for _, a := range h.Arrays {
		if a.Len < 0 {
			return nil, corrupt("array %q has negative length", a.Name)
		}
		total += a.Len
	}
	if total*8 != len(rest) {
		return nil, corrupt("%d bytes of array data, header describes %d", len(rest), total*8)
	}
	c := &Checkpoint{Policy: h.Policy, Meta: h.Meta}
	off := 0
	for _, a := range h.Arrays {
		vals := make([]float64, a.Len)
		for i := range vals {
			vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(rest[off:]))
			off += 8
		}
		c.Arrays = append(c.Arrays, Array{Name: a.Name, Values: vals})
	}
	return c, nil
}

// Restore copies the checkpoint's parameters into ac. It fails, wrapping ErrMismatch, when the
// checkpoint was written for a different architecture (config, names or sizes differ).
func (ac *ActorCritic) Restore(c *Checkpoint) error {
	if err := sameArch(c.Policy, ac.cfg); err != nil {
		return err
	}
	names := ac.ParamNames()
	for i, p := range ac.Params() {
		v := c.Array(names[i])
		if v == nil {
			return fmt.Errorf("%w: parameter %q is missing", ErrMismatch, names[i])
		}
		if len(v) != p.Shape().TotalSize() {
			return fmt.Errorf("%w: parameter %q has %d values, the model has %d", ErrMismatch, names[i], len(v), p.Shape().TotalSize())
		}
		if err := nn.CheckParamValues(names[i], v); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	for i, p := range ac.Params() {
		if err := nn.CopyInto(p, c.Array(names[i])); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrMismatch, names[i], err)
		}
	}
	return nil
}

func sameArch(a, b Config) error {
	ja, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("%w: checkpoint policy config: %v", ErrCorrupt, err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("policy: model config: %w", err)
	}
	if !bytes.Equal(ja, jb) {
		return fmt.Errorf("%w: checkpoint policy %s, model %s", ErrMismatch, ja, jb)
	}
	return nil
}

// Load builds an actor-critic from a checkpoint (its architecture and parameters).
func Load(c *Checkpoint) (*ActorCritic, error) {
	// The initial weights are overwritten, so any seed will do.
	ac, err := New(newZeroRand(), c.Policy)
	if err != nil {
		return nil, fmt.Errorf("policy: checkpoint architecture: %w", err)
	}
	if err := ac.Restore(c); err != nil {
		return nil, err
	}
	return ac, nil
}
