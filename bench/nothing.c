/* The program workload 4 starts: returns at once. */
int
main(void)
{
  return 0;
}
