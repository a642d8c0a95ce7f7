#pragma once
/// Request types shared by several services.
#include <memory>
#include <string>

namespace da::service {

/// A table addressed by its registry id (e.g. the `{id}` of /api/v2/schema/{id}).
struct TableIdRequest {
  std::string id;
};

/// An answer already encoded as JSON text (cached answers: building them is the cost being
/// saved). `text` is never null.
struct EncodedJson {
  std::shared_ptr<const std::string> text;
};

}  // namespace da::service
