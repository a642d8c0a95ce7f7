#include "kit/memory_gate.h"

namespace da::kit {

MemoryGate::Admission MemoryGate::Admit() { return Admission(mutex_); }

}  // namespace da::kit
