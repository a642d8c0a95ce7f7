// da serve — the server process.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "common/config.h"
#include "common/log.h"
#include "server/app.h"

namespace da::cli {

void AddServeCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("serve", "Run the server: HTTP API, sync runs, distribution");
  auto overrides = std::make_shared<ConfigOverrides>();
  cmd->add_option_function<std::string>("--host", [overrides](const std::string& v) { overrides->host = v; },
                                        "Address to bind (default 127.0.0.1; env DA_HOST)");
  cmd->add_option_function<int>("--port", [overrides](const int& v) { overrides->port = v; },
                                "Port (default 8000; 0 = any free port; env DA_PORT)");
  cmd->add_option_function<std::string>("--data-dir", [overrides](const std::string& v) { overrides->data_dir = v; },
                                        "Data directory (default ./data; env DA_DATA_DIR)");
  cmd->add_option_function<std::string>("--config", [overrides](const std::string& v) { overrides->config_file = v; },
                                        "instance.yaml (default config/instance.yaml; env DA_CONFIG)");
  cmd->add_option_function<std::string>("--log-level", [overrides](const std::string& v) { overrides->log_level = v; },
                                        "debug|info|warn|error");
  cmd->callback([overrides, exit_code]() {
    auto config = LoadConfig(*overrides);
    if (!config.ok()) {
      std::fprintf(stderr, "error: %s\n", config.status().message().c_str());
      *exit_code = ExitCodeFor(config.status().code());
      return;
    }
    InitLogging(config->log_level);
    if (overrides->config_file) {
      // Extraction children (`da extract`) load the same file: its sources settings.
      std::error_code ec;
      const auto file = std::filesystem::absolute(*overrides->config_file, ec);
      ::setenv("DA_CONFIG", (ec ? std::filesystem::path(*overrides->config_file) : file).c_str(), 1);
    }
    // Block termination signals in every thread; one thread waits for them and stops the server.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    auto server = server::ServerApp::Create(*config);
    if (!server.ok()) {
      std::fprintf(stderr, "error: %s\n", server.status().message().c_str());
      *exit_code = ExitCodeFor(server.status().code());
      return;
    }
    server::ServerApp* app_ptr = server->get();
    std::thread signal_thread([set, app_ptr]() {
      int sig = 0;
      sigwait(&set, &sig);
      spdlog::info("signal {} received, stopping", sig);
      app_ptr->Stop();
    });
    Status st = (*server)->Run();
    if (!st.ok()) {
      std::fprintf(stderr, "error: %s\n", st.message().c_str());
      *exit_code = ExitCodeFor(st.code());
      pthread_kill(signal_thread.native_handle(), SIGTERM);
    }
    signal_thread.join();
    (*server)->Stop();
  });
}

}  // namespace da::cli
