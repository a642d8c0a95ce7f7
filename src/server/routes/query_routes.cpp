#include "server/app.h"

namespace da::server {

void RegisterQueryRoutes(Router& r, AppContext& ctx) {
  (void)r;
  (void)ctx;
}

}  // namespace da::server
