#include "connectors/builtin.h"

#include <cstdlib>

#include "connectors/files/files_connector.h"
#include "connectors/keboola/keboola_connector.h"

namespace da::connectors {

const kit::ConnectorRegistry& BuiltinConnectors() {
  static const kit::ConnectorRegistry kRegistry = [] {
    kit::ConnectorRegistry r;
    Status st =
        r.Register(files::kConnectorName, [] { return std::make_unique<files::FilesConnector>(); });
    if (st.ok()) {
      st = r.Register(keboola::kConnectorName,
                      [] { return std::make_unique<keboola::KeboolaConnector>(); });
    }
    if (!st.ok()) std::abort();  // a programming error: built-in names are constants
    return r;
  }();
  return kRegistry;
}

}  // namespace da::connectors
