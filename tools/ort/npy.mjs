// Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0) as
// ONNX Runtime tensor parts: { dtype, shape, data }, where dtype is an
// onnxruntime-node type name and data the matching typed array.
// Only little-endian, C-order arrays of numeric or bool type are handled:
// that is what numpy.save writes on every machine mnc targets.
// Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html

import { readFileSync, writeFileSync } from 'node:fs';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // "\x93NUMPY"

// numpy descr (without byte-order mark) <-> ORT dtype and typed array.
const TYPES = [
  { descr: 'f4', dtype: 'float32', array: Float32Array },
  { descr: 'f8', dtype: 'float64', array: Float64Array },
  { descr: 'f2', dtype: 'float16', array: Uint16Array },
  { descr: 'i1', dtype: 'int8', array: Int8Array },
  { descr: 'u1', dtype: 'uint8', array: Uint8Array },
  { descr: 'i2', dtype: 'int16', array: Int16Array },
  { descr: 'u2', dtype: 'uint16', array: Uint16Array },
  { descr: 'i4', dtype: 'int32', array: Int32Array },
  { descr: 'u4', dtype: 'uint32', array: Uint32Array },
  { descr: 'i8', dtype: 'int64', array: BigInt64Array },
  { descr: 'u8', dtype: 'uint64', array: BigUint64Array },
  { descr: 'b1', dtype: 'bool', array: Uint8Array },
];

/** Parses the Python-literal header dict numpy writes, e.g.
 *  {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), } */
function parseHeader(text, path) {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape)
    throw new Error(`${path}: malformed .npy header: ${text.trim()}`);
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0))
    throw new Error(`${path}: bad shape in .npy header: (${shape[1]})`);
  return { descr: descr[1], fortranOrder: fortran[1] === 'True', shape: dims };
}

/** Reads a .npy file into { dtype, shape, data }. */
export function readNpy(path) {
  const buf = readFileSync(path);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC))
    throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  let headerLen, headerStart;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLen = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new Error(`${path}: unsupported .npy format version ${major}.${buf[7]}`);
  }
  const dataStart = headerStart + headerLen;
  const header = parseHeader(
    buf.toString(major === 3 ? 'utf8' : 'latin1', headerStart, dataStart), path);
  if (header.fortranOrder)
    throw new Error(`${path}: Fortran-order arrays are not supported; save a C-order copy`);

  const order = header.descr[0];
  const type = TYPES.find((t) => t.descr === header.descr.slice(1));
  const byteSize = type ? type.array.BYTES_PER_ELEMENT : 0;
  const littleEndian = order === '<' || order === '|' || (order === '=' && byteSize > 0);
  if (!type || !littleEndian || (order === '|' && byteSize !== 1))
    throw new Error(`${path}: unsupported dtype '${header.descr}' ` +
      `(supported: little-endian ${TYPES.map((t) => t.dtype).join(', ')})`);

  const count = header.shape.reduce((a, b) => a * b, 1);
  const bytes = count * byteSize;
  if (buf.length - dataStart < bytes)
    throw new Error(`${path}: truncated: shape [${header.shape}] needs ${bytes} data bytes, ` +
      `file has ${buf.length - dataStart}`);
  // Copy so the typed array is aligned and owns exactly its bytes.
  const data = new type.array(count);
  Buffer.from(data.buffer).set(buf.subarray(dataStart, dataStart + bytes));
  return { dtype: type.dtype, shape: header.shape, data };
}

/** Writes { dtype, shape, data } (e.g. an ORT tensor) as a version 1.0 .npy,
 *  or 2.0 when the header does not fit in 64 KiB. */
export function writeNpy(path, { dtype, shape, data }) {
  const type = TYPES.find((t) => t.dtype === dtype);
  if (!type) throw new Error(`${path}: cannot write dtype ${dtype} as .npy`);
  const order = type.array.BYTES_PER_ELEMENT === 1 ? '|' : '<';
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${order}${type.descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  // Pad with spaces so the data starts at a multiple of 64 bytes, newline last.
  const pad = (prefix) => dict + ' '.repeat(63 - ((prefix + dict.length) % 64)) + '\n';
  const version = pad(10).length <= 0xffff ? 1 : 2;
  const prefix = version === 1 ? 10 : 12;
  const header = pad(prefix);
  const head = Buffer.alloc(prefix);
  MAGIC.copy(head);
  head[6] = version;
  head[7] = 0;
  if (version === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}
