// SPDX-License-Identifier: MIT
/* Dropping privileges for good, and the seccomp allow-list (libseccomp). */
#include "host/sandbox.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/capability.h>

#include "host/log.h"

static volatile sig_atomic_t denied_count, denied_last;
static bool memory_locked;

/*
 * The allow-list: what the event loop (epoll, sockets it was handed, the
 * TUN), the data path threads (futexes), the HTTP server (accept, non-blocking
 * sockets), OpenSSL (getrandom) and the C library's memory management need.
 * No open, no exec, no new sockets but the Unix datagram socket syslog may
 * need to reconnect, no ptrace, no privileges.
 */
static const int allowed[] = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(close),
    SCMP_SYS(recvfrom),
    SCMP_SYS(recvmsg),
    SCMP_SYS(recvmmsg),
    SCMP_SYS(sendto),
    SCMP_SYS(sendmsg),
    SCMP_SYS(sendmmsg),
    SCMP_SYS(accept4),
    SCMP_SYS(shutdown),
    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(fcntl),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(lseek),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(futex),
    SCMP_SYS(sched_yield),
    SCMP_SYS(getrandom),
    SCMP_SYS(brk),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getppid),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(tgkill),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(rseq),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(eventfd2),
    SCMP_SYS(pipe2),
    SCMP_SYS(prctl),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(uname),
    SCMP_SYS(sysinfo),
    SCMP_SYS(connect),
    SCMP_SYS(timerfd_create),
    SCMP_SYS(timerfd_settime),
};

/* A refused call: count it, note which, and make it fail with EPERM. */
static void refuse(int sig, siginfo_t *info, void *context)
{
	ucontext_t *uc = context;

	(void)sig;
	++denied_count;
	denied_last = info->si_syscall;
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = (unsigned long long)-EPERM;
#else
	(void)uc;
#endif
}

static bool install_filter(char *err, size_t err_len)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	struct sigaction sa = {.sa_sigaction = refuse, .sa_flags = SA_SIGINFO};
	int rc = ctx ? 0 : -ENOMEM;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		snprintf(err, err_len, "cannot catch SIGSYS: %s", strerror(errno));
		seccomp_release(ctx);
		return false;
	}
	for (size_t i = 0; !rc && i < sizeof(allowed) / sizeof(allowed[0]); ++i)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* ioctl: the MTU read (SIOCGIFMTU) and FIONREAD/FIONBIO that libraries use */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_EQ, 0x8921 /* SIOCGIFMTU */));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_EQ, 0x541B /* FIONREAD */));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_EQ, 0x5421 /* FIONBIO */));
	/* socket: only the Unix datagram socket syslog(3) reconnects with */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				      SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* every thread, the data path's included */
	if (!rc)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc) {
		snprintf(err, err_len, "cannot load the seccomp filter: %s", strerror(-rc));
		return false;
	}
	return true;
}

void sandbox_no_dumps(void)
{
	struct rlimit none = {0, 0};

	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Whether the process holds any capability, permitted or effective. */
static bool has_capabilities(void)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {0};

	if (syscall(SYS_capget, &header, data) < 0)
		return true;
	return data[0].effective || data[1].effective || data[0].permitted || data[1].permitted;
}

/*
 * Keys never reach swap: all memory locked, now and as it grows, as the
 * kernel's own memory is. That needs the memory-lock limit lifted (root can,
 * unless its capabilities are bounded: systemd's LimitMEMLOCK=infinity does
 * it there). Where it cannot be, what is mapped now is locked if it fits the
 * limit, OpenSSL keeps its keys in its locked secure heap, and the log says
 * that session keys may be swapped.
 */
static void lock_memory(const struct rlimit *unlimited)
{
	struct rlimit limit;

	if (setrlimit(RLIMIT_MEMLOCK, unlimited) == 0 &&
	    (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0 ||
	     mlockall(MCL_CURRENT | MCL_FUTURE) == 0)) {
		memory_locked = true;
		return;
	}
	getrlimit(RLIMIT_MEMLOCK, &limit);
	memory_locked = false;
	log_error("event=memory_not_locked limit_kb=%llu msg=\"the memory-lock limit cannot be "
		  "lifted here: session keys may reach swap (LimitMEMLOCK=infinity lifts it)\"",
		  (unsigned long long)limit.rlim_cur / 1024);
}

bool sandbox_memory_locked(void)
{
	return memory_locked;
}

bool sandbox_enter(const char *user, char *err, size_t err_len)
{
	struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		snprintf(err, err_len, "no user `%s' to run the data path as (set WGATE_USER)",
			 user);
		return false;
	}
	if (!pw->pw_uid) {
		snprintf(err, err_len, "WGATE_USER `%s' is root: the data path must not be", user);
		return false;
	}
	sandbox_no_dumps();
	lock_memory(&unlimited);
	if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		snprintf(err, err_len, "cannot become `%s': %s", user, strerror(errno));
		return false;
	}
	/* For good: no way back to root, no capability left, no new privileges by exec. */
	if (setuid(0) == 0 || has_capabilities() || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, err_len, "privileges could not be dropped for good");
		return false;
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* a change of user resets it */
	return install_filter(err, err_len);
}

uint64_t sandbox_denied(int *last_syscall)
{
	if (last_syscall)
		*last_syscall = denied_last;
	return (uint64_t)denied_count;
}
