/*
 * list.h: intrusive circular doubly linked lists.
 *
 * A struct list is both the head of a list and the link embedded in each
 * element; list_entry() gets from the link back to the element.
 */
#ifndef MNEME_LIST_H
#define MNEME_LIST_H

#include <stddef.h>

struct list {
  struct list *next, *prev;
};

#define list_entry(ptr, type, member) \
  ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void
list_init(struct list *l)
{
  l->next = l->prev = l;
}

static inline int
list_empty(const struct list *l)
{
  return l->next == l;
}

/* Inserts n at the tail of head. */
static inline void
list_push_back(struct list *head, struct list *n)
{
  n->prev = head->prev;
  n->next = head;
  head->prev->next = n;
  head->prev = n;
}

/* Unlinks n (which must be linked) and leaves it self-linked. */
static inline void
list_remove(struct list *n)
{
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = n;
}

/* Unlinks and returns the first element, or NULL if the list is empty. */
static inline struct list *
list_pop_front(struct list *head)
{
  struct list *n = head->next;
  if (n == head)
    return NULL;
  list_remove(n);
  return n;
}

#endif
