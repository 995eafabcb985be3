/* Must not compile: ReceiveMessage takes two strings, not an integer. */
#include "chat-hub-gen.h"

void wrong_argument (HubsClientProxy *proxy);

void
wrong_argument (HubsClientProxy *proxy)
{
  chat_client_call_receive_message (proxy, "user", 42);
}
