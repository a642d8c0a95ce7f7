#pragma once
/// The connectors compiled into the `da` binary.
#include "kit/connector.h"

namespace da::connectors {

/// The process-wide registry of built-in connectors ("files", ...), built on first use
/// (thread-safe). Use `BuiltinConnectors().IsKnown(name)` to validate a source_type.
const kit::ConnectorRegistry& BuiltinConnectors();

}  // namespace da::connectors
