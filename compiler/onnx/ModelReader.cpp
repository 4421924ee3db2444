// Defensive reading of ONNX protobufs; see ModelReader.h.
#include "compiler/onnx/ModelReader.h"
#include "compiler/onnx/Importer.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mnc::onnximport {

namespace {

template <typename... Args>
llvm::Error invalid(fmt::format_string<Args...> format, Args &&...args) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      fmt::format(format, std::forward<Args>(args)...));
}

/// Copies `values` converted to T into the tensor's bytes. Narrow integers
/// travel in int32_data; one outside T's range is an error, not a wrapped
/// value.
template <typename T, typename Src>
llvm::Error fill(Tensor &t,
                 const google::protobuf::RepeatedField<Src> &values) {
  T *out = t.data<T>();
  for (int i = 0; i < values.size(); ++i) {
    Src v = values.Get(i);
    if constexpr (std::is_integral_v<T> && sizeof(T) < sizeof(Src))
      if (v < std::numeric_limits<T>::min() ||
          v > std::numeric_limits<T>::max())
        return invalid("value {} at index {} is out of range for {}", v, i,
                       elemName(t.type.elem).str());
    out[i] = static_cast<T>(v);
  }
  return llvm::Error::success();
}

/// The typed repeated field holding data of `elem`, and its length.
int typedFieldSize(const onnx::TensorProto &p, ElemKind elem) {
  switch (elem) {
  case ElemKind::F32:
    return p.float_data_size();
  case ElemKind::I64:
    return p.int64_data_size();
  default:
    return p.int32_data_size();
  }
}

/// Whether any typed repeated field holds data.
bool hasTypedData(const onnx::TensorProto &p) {
  return p.float_data_size() || p.int32_data_size() || p.int64_data_size() ||
         p.double_data_size() || p.uint64_data_size() || p.string_data_size();
}

llvm::Error fillTyped(Tensor &t, const onnx::TensorProto &p) {
  switch (t.type.elem) {
  case ElemKind::F32:
    return fill<float>(t, p.float_data());
  case ElemKind::I64:
    return fill<int64_t>(t, p.int64_data());
  case ElemKind::I32:
    return fill<int32_t>(t, p.int32_data());
  case ElemKind::I8:
    return fill<int8_t>(t, p.int32_data());
  case ElemKind::U8:
    return fill<uint8_t>(t, p.int32_data());
  }
  llvm_unreachable("every element kind is handled");
}

} // namespace

std::string onnxTypeName(int32_t dataType) {
  if (onnx::TensorProto_DataType_IsValid(dataType))
    return onnx::TensorProto_DataType_Name(
        static_cast<onnx::TensorProto_DataType>(dataType));
  return fmt::format("type {}", dataType);
}

llvm::Expected<ElemKind> elemKindFromOnnx(int32_t dataType,
                                          llvm::StringRef what) {
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
    return ElemKind::F32;
  case onnx::TensorProto::INT64:
    return ElemKind::I64;
  case onnx::TensorProto::INT32:
    return ElemKind::I32;
  case onnx::TensorProto::INT8:
    return ElemKind::I8;
  case onnx::TensorProto::UINT8:
  // ONNX bool is u8 0/1 in the IR (the comparisons' results).
  case onnx::TensorProto::BOOL:
    return ElemKind::U8;
  default:
    return llvm::make_error<UnsupportedError>(
        fmt::format("{}: element type {} is not supported (f32, i64, i32, i8 "
                    "and u8 are)",
                    what.str(), onnxTypeName(dataType)));
  }
}

llvm::Error checkShape(llvm::ArrayRef<int64_t> shape, const Limits &limits,
                       llvm::StringRef what) {
  if (shape.size() > limits.maxRank)
    return invalid("{}: rank {} exceeds the limit of {}", what.str(),
                   shape.size(), limits.maxRank);
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return invalid("{}: negative dimension {} in shape [{}]", what.str(), d,
                     fmt::join(shape, ","));
    if (d != 0 && n > limits.maxElements / d)
      return invalid("{}: shape [{}] has more than {} elements", what.str(),
                     fmt::join(shape, ","), limits.maxElements);
    n *= d;
  }
  return llvm::Error::success();
}

llvm::Expected<onnx::ModelProto> readModelProto(llvm::StringRef path,
                                                const Limits &limits) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return invalid("cannot read '{}': {}", path.str(),
                   buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() >= limits.maxTotalBytes)
    return invalid("'{}': {} bytes exceed the model size limit of {}",
                   path.str(), bytes.size(), limits.maxTotalBytes);
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromArray(bytes.data(), bytes.size()))
    return invalid("'{}' is not an ONNX model (protobuf parse failed)",
                   path.str());
  if (!model.has_graph())
    return invalid("'{}' is not an ONNX model (no graph)", path.str());
  return model;
}

llvm::Expected<std::string>
TensorReader::readExternal(const onnx::TensorProto &proto, uint64_t byteSize,
                           llvm::StringRef what) {
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  for (const auto &kv : proto.external_data()) {
    unsigned long long v = 0;
    if (kv.key() == "location")
      location = kv.value();
    else if ((kv.key() == "offset" || kv.key() == "length") &&
             llvm::StringRef(kv.value()).getAsInteger(10, v))
      return invalid("{}: external data {} '{}' is not a number", what.str(),
                     kv.key(), kv.value());
    if (kv.key() == "offset")
      offset = v;
    else if (kv.key() == "length")
      length = v;
  }
  if (location.empty())
    return invalid("{}: external data without a location", what.str());
  if (length && *length != byteSize)
    return invalid("{}: external data length {} does not match the {} bytes "
                   "of its shape",
                   what.str(), *length, byteSize);
  // The location must name a file inside the model's folder: no absolute
  // paths, no '..', and no symlink that leads out.
  if (llvm::sys::path::is_absolute(location) ||
      llvm::is_contained(llvm::make_range(llvm::sys::path::begin(location),
                                          llvm::sys::path::end(location)),
                         ".."))
    return invalid("{}: external data path '{}' leaves the model's folder",
                   what.str(), location);
  llvm::SmallString<256> path(baseDir), realBase, realPath;
  llvm::sys::path::append(path, location);
  if (llvm::sys::fs::real_path(baseDir, realBase) ||
      llvm::sys::fs::real_path(path, realPath))
    return invalid("{}: cannot open external data file '{}'", what.str(),
                   path.str().str());
  if (!llvm::StringRef(realPath).starts_with(realBase.str().str() + "/"))
    return invalid("{}: external data path '{}' leaves the model's folder",
                   what.str(), location);
  // Opened without blocking (a FIFO would wait for a writer forever) and
  // checked on the open descriptor, so the file read is the file checked.
  int fd = ::open(realPath.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return invalid("{}: cannot open external data file '{}'", what.str(),
                   path.str().str());
  auto closeFd = llvm::make_scope_exit([&] { ::close(fd); });
  struct stat st;
  if (::fstat(fd, &st) || !S_ISREG(st.st_mode))
    return invalid("{}: external data file '{}' is not a regular file",
                   what.str(), location);
  uint64_t fileSize = st.st_size;
  if (offset > fileSize || byteSize > fileSize - offset)
    return invalid("{}: external data file '{}' has no {} bytes at offset {}",
                   what.str(), location, byteSize, offset);
  auto buffer = llvm::MemoryBuffer::getOpenFileSlice(
      fd, realPath, byteSize, offset, /*IsVolatile=*/false);
  if (!buffer)
    return invalid("{}: cannot read {} bytes at offset {} of '{}': {}",
                   what.str(), byteSize, offset, location,
                   buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

llvm::Error TensorReader::reserve(uint64_t bytes, llvm::StringRef what) {
  totalBytes += bytes;
  if (totalBytes > limits.maxTotalBytes)
    return invalid("{}: weights exceed the limit of {} bytes in total",
                   what.str(), limits.maxTotalBytes);
  return llvm::Error::success();
}

llvm::Expected<Tensor> TensorReader::read(const onnx::TensorProto &proto,
                                          llvm::StringRef what) {
  auto elem = elemKindFromOnnx(proto.data_type(), what);
  if (!elem)
    return elem.takeError();
  llvm::SmallVector<int64_t, 4> shape(proto.dims().begin(), proto.dims().end());
  if (auto err = checkShape(shape, limits, what))
    return err;
  TensorType type(*elem, shape);
  uint64_t byteSize = type.byteSize();
  if (auto err = reserve(byteSize, what))
    return err;
  // Sizes are checked against the data before the tensor is allocated.
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    auto bytes = readExternal(proto, byteSize, what);
    if (!bytes)
      return bytes.takeError();
    return Tensor(type, std::vector<uint8_t>(bytes->begin(), bytes->end()));
  }
  // Data in two places has no one meaning.
  if (proto.has_raw_data() && hasTypedData(proto))
    return invalid("{}: has both raw_data and typed data", what.str());
  if (proto.has_raw_data()) {
    const std::string &raw = proto.raw_data();
    if (raw.size() != byteSize)
      return invalid("{}: {} bytes of raw data, but {} has {} bytes",
                     what.str(), raw.size(), toString(type), byteSize);
    return Tensor(type, std::vector<uint8_t>(raw.begin(), raw.end()));
  }
  int64_t n = typedFieldSize(proto, *elem);
  if (n != type.numElements())
    return invalid("{}: {} values, but {} has {} elements", what.str(), n,
                   toString(type), type.numElements());
  Tensor t(type);
  if (auto err = fillTyped(t, proto))
    return invalid("{}: {}", what.str(), llvm::toString(std::move(err)));
  return t;
}

} // namespace mnc::onnximport
