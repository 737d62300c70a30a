// Fair comparisons on a noisy machine: run side A and side B alternately, pair
// each A round with the B round next to it, and report the median ratio.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace hotstate::bench {

/// The median of `values` (the mean of the middle two for an even count).
inline double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const auto n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// Runs `rounds` pairs of (a, b); each returns operations per second. Prints
/// both medians and `RATIO name value` where value = median(a_i / b_i).
template <class A, class B>
double compare_interleaved(const std::string& name, int rounds, A&& a, B&& b) {
    std::vector<double> ratios, a_rates, b_rates;
    for (int round = 0; round < rounds; ++round) {
        const bool a_first = round % 2 == 0;  // alternate who goes first, too
        double rate_a = 0, rate_b = 0;
        if (a_first) {
            rate_a = a();
            rate_b = b();
        } else {
            rate_b = b();
            rate_a = a();
        }
        a_rates.push_back(rate_a);
        b_rates.push_back(rate_b);
        ratios.push_back(rate_a / rate_b);
    }
    const double ratio = median(ratios);
    std::printf("%-32s hotstate %12.0f ops/s   other %12.0f ops/s\n", name.c_str(), median(a_rates), median(b_rates));
    std::printf("RATIO %s %.3f\n", name.c_str(), ratio);
    std::fflush(stdout);
    return ratio;
}

/// Operations per second of `ops` operations that took `elapsed`.
inline double rate(std::size_t ops, std::chrono::steady_clock::duration elapsed) {
    return static_cast<double>(ops) / std::chrono::duration<double>(elapsed).count();
}

}  // namespace hotstate::bench
