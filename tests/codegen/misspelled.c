/* Must not compile: ReceiveMesage is no client method of the chat hub. */
#include "chat-hub-gen.h"

void misspelled (HubsClientProxy *proxy);

void
misspelled (HubsClientProxy *proxy)
{
  chat_client_call_receive_mesage (proxy, "user", "message");
}
