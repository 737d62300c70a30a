// Context of the README's Redis coordinator block: the application functions it calls.
#pragma once
#include <string>
#include <string_view>

void refuse_mail_to(const std::string& account);
void reload_quotas();
void log(std::string_view what, std::string_view detail);
void serve_until_shutdown();
