/* uart_hello: output through the board's console UART registers only (no
 * semihosting stdio), to test the simulator's UART model. */
#include "mcusim.h"

int main(void)
{
    mcusim_uart_puts("uart_hello: hello from the console UART\n");
    return 0;
}
