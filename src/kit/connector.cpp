#include "kit/connector.h"

#include "common/identifiers.h"

namespace da::kit {

Result<std::vector<TableInfo>> Connector::Discover(const ConnectorConfig&) {
  return FailedPrecondition("connector '" + name() + "' cannot discover tables");
}

Status Connector::Read(const ReadOptions&, ParquetSink&) {
  return FailedPrecondition("connector '" + name() + "' cannot read tables");
}

Status ConnectorRegistry::Register(const std::string& name, ConnectorFactory factory) {
  DA_RETURN_IF_ERROR(ValidateStrictIdentifier("connector name", name));
  if (!factory) return InvalidArgument("connector '" + name + "' has no factory");
  if (!factories_.emplace(name, std::move(factory)).second) {
    return AlreadyExists("connector '" + name + "' is already registered");
  }
  return Status::Ok();
}

bool ConnectorRegistry::IsKnown(const std::string& name) const {
  return factories_.count(name) > 0;
}

Result<std::unique_ptr<Connector>> ConnectorRegistry::Create(const std::string& name) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& [n, f] : factories_) known += (known.empty() ? "" : ", ") + n;
    return NotFound("unknown connector '" + name.substr(0, 64) +
                    "' (known: " + (known.empty() ? "none" : known) + ")");
  }
  auto c = it->second();
  if (!c) return Internal("connector factory '" + name + "' returned nothing");
  return c;
}

std::vector<std::string> ConnectorRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [n, f] : factories_) out.push_back(n);
  return out;
}

}  // namespace da::kit
