// .npy and TensorProto file reading and .npy writing; see TensorIO.h.
#include "compiler/TensorIO.h"
#include "compiler/onnx/ModelReader.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

#include <cstring>

namespace mnc {
namespace {

constexpr llvm::StringLiteral npyMagic("\x93NUMPY");

template <typename... Args>
llvm::Error fail(llvm::StringRef name, fmt::format_string<Args...> format,
                 Args &&...args) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(), "%s: %s", name.str().c_str(),
      fmt::format(format, std::forward<Args>(args)...).c_str());
}

/// The value text of `key` in a numpy header dict, e.g. "'<f4'" or "(1, 3)".
llvm::StringRef headerField(llvm::StringRef header, llvm::StringRef key) {
  size_t at = header.find(("'" + key + "'").str());
  if (at == llvm::StringRef::npos)
    return {};
  llvm::StringRef rest = header.drop_front(at + key.size() + 2).ltrim();
  if (!rest.consume_front(":"))
    return {};
  rest = rest.ltrim();
  if (rest.starts_with("(")) {
    size_t end = rest.find(')');
    return end == llvm::StringRef::npos ? llvm::StringRef()
                                        : rest.take_front(end + 1);
  }
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).rtrim();
}

std::optional<ElemKind> npyKind(llvm::StringRef descr) {
  return llvm::StringSwitch<std::optional<ElemKind>>(descr)
      .Cases("'<f4'", "'float32'", ElemKind::F32)
      .Cases("'<i8'", "'int64'", ElemKind::I64)
      .Cases("'<i4'", "'int32'", ElemKind::I32)
      .Cases("'|i1'", "'<i1'", "'int8'", ElemKind::I8)
      .Cases("'|u1'", "'<u1'", "'uint8'", ElemKind::U8)
      // numpy bool: bytes 0 and 1, ONNX bool, which is u8 in mnc.
      .Cases("'|b1'", "'bool'", ElemKind::U8)
      .Default(std::nullopt);
}

llvm::StringRef npyDescr(ElemKind kind) {
  switch (kind) {
  case ElemKind::F32:
    return "<f4";
  case ElemKind::I64:
    return "<i8";
  case ElemKind::I32:
    return "<i4";
  case ElemKind::I8:
    return "|i1";
  case ElemKind::U8:
    return "|u1";
  }
  return "";
}

llvm::Expected<Tensor> parseTensorProto(llvm::StringRef bytes,
                                        llvm::StringRef path) {
  onnx::TensorProto proto;
  // Protobuf parses most byte strings as some message; a tensor without a
  // data type (e.g. a model file) is not one.
  if (!proto.ParseFromArray(bytes.data(), bytes.size()) ||
      proto.data_type() == onnx::TensorProto::UNDEFINED)
    return fail(path, "neither a .npy file nor an ONNX TensorProto");
  llvm::StringRef dir = llvm::sys::path::parent_path(path);
  onnximport::TensorReader reader(dir.empty() ? "." : dir.str(), {});
  return reader.read(proto, path);
}

} // namespace

llvm::Expected<Tensor> parseNpy(llvm::StringRef bytes, llvm::StringRef name) {
  if (!bytes.consume_front(npyMagic) || bytes.size() < 4)
    return fail(name, "not a .npy file");
  unsigned major = static_cast<uint8_t>(bytes[0]);
  bytes = bytes.drop_front(2);
  size_t lenBytes = major == 1 ? 2 : 4;
  if (major < 1 || major > 3 || bytes.size() < lenBytes)
    return fail(name, "unsupported .npy version {}", major);
  uint32_t headerLen = 0;
  for (size_t i = 0; i < lenBytes; ++i)
    headerLen |= uint32_t(static_cast<uint8_t>(bytes[i])) << (8 * i);
  bytes = bytes.drop_front(lenBytes);
  if (headerLen > bytes.size())
    return fail(name, "truncated .npy header");
  llvm::StringRef header = bytes.take_front(headerLen);
  bytes = bytes.drop_front(headerLen);
  llvm::StringRef descr = headerField(header, "descr");
  auto kind = npyKind(descr);
  if (!kind)
    return fail(name,
                "unsupported dtype {} (float32, int64, int32, int8 and "
                "uint8 are supported)",
                descr.empty() ? "(missing)" : descr.str());
  if (headerField(header, "fortran_order") != "False")
    return fail(name, "Fortran-order arrays are not supported");
  llvm::StringRef shapeText = headerField(header, "shape");
  if (!shapeText.consume_front("(") || !shapeText.consume_back(")"))
    return fail(name, "malformed shape in .npy header");
  llvm::SmallVector<int64_t, 4> shape;
  llvm::SmallVector<llvm::StringRef, 4> parts;
  shapeText.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef p : parts) {
    int64_t d;
    if (p.trim().getAsInteger(10, d))
      return fail(name, "malformed shape in .npy header");
    shape.push_back(d);
  }
  if (auto err = onnximport::checkShape(shape, onnximport::Limits(), name))
    return err;
  TensorType type(*kind, shape);
  if (static_cast<uint64_t>(type.byteSize()) != bytes.size())
    return fail(name, "{} needs {} bytes of data, the file has {}",
                toString(type), type.byteSize(), bytes.size());
  return Tensor(type, std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

llvm::Expected<Tensor> readTensorFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail(path, "cannot read: {}", buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (bytes.starts_with(npyMagic))
    return parseNpy(bytes, path);
  return parseTensorProto(bytes, path);
}

llvm::Error writeNpy(llvm::StringRef path, const Tensor &t) {
  std::vector<std::string> dims;
  for (int64_t d : t.type.shape)
    dims.push_back(std::to_string(d));
  std::string shape = dims.size() == 1 ? dims[0] + "," : llvm::join(dims, ", ");
  std::string header =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}",
                  npyDescr(t.type.elem).str(), shape);
  // The header (after magic, version and length) ends in '\n' and pads the
  // data start to a multiple of 64 bytes (numpy format spec).
  size_t total = npyMagic.size() + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return fail(path, "cannot write: {}", ec.message());
  os << npyMagic << '\x01' << '\x00';
  os << static_cast<char>(header.size() & 0xff)
     << static_cast<char>(header.size() >> 8) << header;
  os.write(reinterpret_cast<const char *>(t.bytes.data()), t.bytes.size());
  os.close();
  if (os.has_error())
    return fail(path, "write failed: {}", os.error().message());
  return llvm::Error::success();
}

} // namespace mnc
