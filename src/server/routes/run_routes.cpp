#include "server/app.h"

namespace da::server {

void RegisterRunRoutes(Router& r, AppContext& ctx) {
  (void)r;
  (void)ctx;
}

}  // namespace da::server
