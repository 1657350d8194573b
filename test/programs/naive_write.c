/* A deliberately naive writer: one write(2) of the whole buffer, result
 * ignored, as careless programs do. naive_write FILE TEXT */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return 1;
  (void)!write(fd, argv[2], strlen(argv[2]));
  close(fd);
  return 0;
}
