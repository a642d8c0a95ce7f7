#include "server/app.h"

namespace da::server {

void RegisterCatalogV2Routes(Router& r, AppContext& ctx) {
  (void)r;
  (void)ctx;
}

}  // namespace da::server
