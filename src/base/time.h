// The time vocabulary of every layer: durations in milliseconds, instants of
// the monotonic clock (deadlines, waits) and of the wall clock (records,
// schedules, expiry to the second; rules' memory to the millisecond).
#pragma once

#include <chrono>

namespace caretaker {

using Millis = std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;
using SysSeconds = std::chrono::sys_seconds;
using WallTime = std::chrono::sys_time<std::chrono::milliseconds>;  // the wall clock, to the millisecond

// The system clock now, to the millisecond.
inline WallTime WallNow() { return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()); }

}  // namespace caretaker
