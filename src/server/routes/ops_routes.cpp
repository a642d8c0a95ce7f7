#include "server/app.h"

namespace da::server {

void RegisterOpsRoutes(Router& r, AppContext& ctx) {
  (void)r;
  (void)ctx;
}

}  // namespace da::server
