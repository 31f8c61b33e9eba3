// SPDX-License-Identifier: MIT
/* empty: a static program that does nothing; the exec and launcher floor. */
int main(void)
{
	return 0;
}
